from core.errors import ErrorCode


class StudyErrorCode(ErrorCode):
    """Bad values of the study vocabulary, wherever they are typed (profiles, leads, the catalogue, its CSV)."""

    INVALID_INTAKE = "invalid_intake"
    INVALID_SCORE = "invalid_score"
    INVALID_GRADE = "invalid_grade"
    UNKNOWN_COUNTRY = "unknown_country"
    UNKNOWN_CURRENCY = "unknown_currency"
