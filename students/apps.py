from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = "Student profiles"

    def ready(self):
        # The passport column's values never reach a log line, SQL debug logs included.
        from core.logging import redact_sql_column  # noqa: PLC0415 - settings' logging is configured by now

        redact_sql_column("passport_number")
