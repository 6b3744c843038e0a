from core.errors import ErrorCode


class StudentErrorCode(ErrorCode):
    NOT_A_STUDENT = "not_a_student"
