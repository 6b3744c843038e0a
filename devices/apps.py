from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices"

    def ready(self):
        # Sessions that end take their devices with them (accounts.signals); imported once the
        # registry is ready. The providers' addresses are set once (devices.providers).
        from devices import providers, receivers  # noqa: F401, PLC0415

        providers.point_at_configured_endpoints()
