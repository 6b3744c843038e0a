from typing import Any

from rest_framework import serializers

from privacy.models import ExportStatus, PersonalDataExport


class ExportSerializer(serializers.ModelSerializer[PersonalDataExport]):
    """A large export being built in the background: poll `status_url`; `download_url` (a link valid for
    PERSONAL_EXPORT_LINK_MINUTES, usable without a token) once `status` is `ready`."""

    user_id = serializers.IntegerField(source="subject_id", read_only=True)
    status = serializers.ChoiceField(choices=ExportStatus.choices, read_only=True)
    status_url = serializers.CharField(read_only=True)
    download_url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = PersonalDataExport
        fields = [
            "id",
            "user_id",
            "status",
            "size",
            "created_at",
            "ready_at",
            "expires_at",
            "status_url",
            "download_url",
        ]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer[None]):
    reason = serializers.CharField(max_length=1000, help_text="Why (kept in the privacy audit).")


class ErasureSerializer(serializers.Serializer[dict[str, Any]]):
    user_id = serializers.IntegerField()
    erased_at = serializers.DateTimeField()
    removed = serializers.DictField(
        child=serializers.IntegerField(), help_text="How many records of each kind were removed or pseudonymised."
    )


class LegalHoldSerializer(serializers.Serializer[None]):
    legal_hold = serializers.BooleanField()
    reason = serializers.CharField(max_length=1000, write_only=True, help_text="Why (kept in the privacy audit).")


class LegalHoldStateSerializer(serializers.Serializer[None]):
    user_id = serializers.IntegerField()
    legal_hold = serializers.BooleanField()
