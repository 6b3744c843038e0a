"""Print a new VAPID key pair for Web Push, as the settings take it."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Generate a VAPID key pair: put the two lines in the environment (.env) of every process."

    def handle(self, *args, **options):
        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={base64.urlsafe_b64encode(private).decode().rstrip('=')}")
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={base64.urlsafe_b64encode(public).decode().rstrip('=')}")
