from rest_framework import serializers

from leads.models import Activity, Lead, LeadSource, LeadStatus


class LeadSerializer(serializers.ModelSerializer):
    office_id = serializers.IntegerField(read_only=True, allow_null=True)
    assigned_to = serializers.IntegerField(source="assigned_to_id", read_only=True, allow_null=True)
    student_id = serializers.IntegerField(source="linked_student_id", read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "source",
            "status",
            "lost_reason",
            "office_id",
            "assigned_to",
            "student_id",
            "created_at",
            "updated_at",
            "converted_at",
        ]
        read_only_fields = fields


class LeadCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.RegexField(r"^[0-9+()\-. ]{0,32}$", max_length=32, required=False, allow_blank=True, default="")
    # (a field named like a Field attribute: DRF's metaclass takes it off the class, the stubs do not know)
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False, default=LeadSource.WALK_IN)  # type: ignore[assignment]
    office_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    confirm_duplicate = serializers.BooleanField(required=False, default=False)


class LeadUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.RegexField(r"^[0-9+()\-. ]{0,32}$", max_length=32, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)  # type: ignore[assignment]  # as above
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    lost_reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    confirm_duplicate = serializers.BooleanField(required=False, default=False)


class LeadStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices)
    lost_reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField(min_value=1)


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class EscalateSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ActivitySerializer(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = ["id", "kind", "text", "data", "actor_id", "actor_name", "created_at"]

    def get_actor_name(self, activity) -> str | None:
        return activity.actor.full_name if activity.actor else None


class ImportReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]  # as source above
