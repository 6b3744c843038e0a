from rest_framework import serializers

from devices.models import Device, DeviceKind


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "kind", "token", "created_at", "last_used_at"]


class SubscriptionKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)


class SubscriptionSerializer(serializers.Serializer):
    """A browser's `PushSubscription.toJSON()`."""

    endpoint = serializers.CharField(max_length=2048)
    keys = SubscriptionKeysSerializer()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)


class DeviceRegisterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DeviceKind.choices)
    token = serializers.CharField(max_length=4096, required=False, help_text="fcm and apns: the app's push token.")
    subscription = SubscriptionSerializer(required=False, help_text="webpush: the browser's subscription.")

    def validate(self, attrs):
        if attrs["kind"] == DeviceKind.WEBPUSH:
            if "subscription" not in attrs:
                raise serializers.ValidationError({"subscription": ["A webpush device needs its subscription."]})
        elif not attrs.get("token"):
            raise serializers.ValidationError({"token": ["An fcm or apns device needs its token."]})
        return attrs


class WebPushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        allow_null=True, help_text="The VAPID public key (base64url) for pushManager.subscribe; null when not set up."
    )
