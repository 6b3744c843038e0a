from rest_framework import serializers

from offices.models import Office, validate_timezone


class OfficeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Office
        fields = [
            "id",
            "name",
            "address",
            "phone",
            "email",
            "timezone",
            "opens_at",
            "closes_at",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class OfficeWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])
    opens_at = serializers.TimeField(required=False)
    closes_at = serializers.TimeField(required=False)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        opens, closes = attrs.get("opens_at"), attrs.get("closes_at")
        if opens and closes and opens >= closes:
            raise serializers.ValidationError({"closes_at": ["Must be after opens_at."]})
        return attrs
