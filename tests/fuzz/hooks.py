"""Schemathesis hooks: logging out revokes the token it is sent with, so that operation gets a
fresh login of the same user each time and the run's own token stays valid."""

import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=None).apply_to(path="/api/v1/auth/logout")
class FreshToken:
    def get(self, case, ctx):
        response = requests.post(f"{os.environ['FUZZ_BASE_URL']}/api/v1/auth/login", json={
            "username": os.environ["FUZZ_USERNAME"], "password": os.environ["FUZZ_PASSWORD"]},
            timeout=30)
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
