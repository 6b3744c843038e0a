from rest_framework import serializers

from accounts.models import Role, User
from offices.models import Office
from offices.selectors import office_list_for

MAX_OPEN_LEADS_HELP = (
    "A consultant's cap on open leads (new, contacted, qualified, applied): lead routing skips them at it; "
    "null: no cap. Consultants only."
)


def max_open_leads_field(**options) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, allow_null=True, help_text=MAX_OPEN_LEADS_HELP, **options
    )


class UserSerializer(serializers.ModelSerializer):
    office_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "role", "office_id", "phone", "is_active", "last_seen"]
        read_only_fields = fields


class ManagedUserSerializer(UserSerializer):
    """A user as the users API shows them (people management, office-scoped): with the consultant's cap on open
    leads, which stays out of what reaches students (contacts, `auth/me` of others)."""

    max_open_leads = max_open_leads_field(read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "max_open_leads"]
        read_only_fields = fields


class SignupSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    expires_in = serializers.IntegerField(
        help_text="Seconds the access token lives (JWT_ACCESS_MINUTES): refresh before"
    )


class AuthResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


class ProfileUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=200, help_text="The code from the reset email (also in its link).")
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class VisibleOfficeField(serializers.PrimaryKeyRelatedField):
    """An office the requesting user may see: another office's id is as unknown as one that does not
    exist (400 does_not_exist), so ids of hidden offices cannot be probed. (`queryset` names the model
    for the schema; validation asks the selector.)"""

    def get_queryset(self):
        return office_list_for(self.context["request"].user)


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    office_id = VisibleOfficeField(
        queryset=Office.objects.all(), source="office", required=False, allow_null=True, default=None
    )
    max_open_leads = max_open_leads_field(required=False, default=None)


class UserUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    office_id = VisibleOfficeField(queryset=Office.objects.all(), source="office", required=False, allow_null=True)
    max_open_leads = max_open_leads_field(required=False)


class SocialExchangeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=200)
