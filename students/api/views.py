from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_response
from core.errors import CoreErrorCode, NotFound
from students import selectors, services
from students.api.serializers import ProfileSerializer, profile_body
from students.validation import ProfileChangesSerializer

NOT_A_STUDENT = error_response(CoreErrorCode.NOT_FOUND)  # (staff have no profile)


def _profile(request, student):
    return Response(profile_body(selectors.profile_view(request.user, student, today=timezone.localdate())))


class StudentProfileView(APIView):
    """A student's profile, for whoever may see the student (404 otherwise)."""

    @extend_schema(responses={200: ProfileSerializer}, tags=["students"])
    def get(self, request, student_id: int):
        return _profile(request, selectors.student_get_for(request.user, student_id))

    @extend_schema(request=ProfileChangesSerializer, responses={200: ProfileSerializer}, tags=["students"])
    def patch(self, request, student_id: int):
        student = selectors.student_get_for(request.user, student_id)
        services.profile_update(actor=request.user, student=student, changes=request.data)
        return _profile(request, selectors.student_get_for(request.user, student_id))


class MyProfileView(APIView):
    """The signed-in student's own profile (staff have none: 404)."""

    def _me(self, request):
        try:
            return selectors.student_get_for(request.user, request.user.pk)
        except NotFound:
            raise NotFound("Only students have a profile.") from None

    @extend_schema(responses={200: ProfileSerializer, 404: NOT_A_STUDENT}, tags=["students"])
    def get(self, request):
        return _profile(request, self._me(request))

    @extend_schema(
        request=ProfileChangesSerializer, responses={200: ProfileSerializer, 404: NOT_A_STUDENT}, tags=["students"]
    )
    def patch(self, request):
        services.profile_update(actor=request.user, student=self._me(request), changes=request.data)
        return _profile(request, self._me(request))
