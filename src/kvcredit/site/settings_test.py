"""Settings for the test suite: the production settings with a test key and a fast hasher."""

from __future__ import annotations

import os

os.environ.setdefault("KVCREDIT_SECRET_KEY", "kvcredit-test-suite-secret-key-0123456789abcdef")
os.environ.setdefault("KVCREDIT_DATA_DIR", "var")  # never a demo-data found beside the tests

from kvcredit.site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Tests never touch a developer's database: SQLite by default (pytest-django makes an in-memory
# test database), or the PostgreSQL server named by KVCREDIT_TEST_DATABASE_URL when the run asks
# for it with KVCREDIT_TEST_BACKEND=postgresql (pytest-django creates and drops test_<name>).
TEST_BACKEND = os.environ.get("KVCREDIT_TEST_BACKEND", "sqlite")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "test.sqlite3"),  # noqa: F405
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
if TEST_BACKEND == "postgresql" and os.environ.get("KVCREDIT_TEST_DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["KVCREDIT_TEST_DATABASE_URL"])}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Jobs run at once, inside the call that queues them (the kill-and-resume tests run real
# workers on a database of their own, with the database backend).
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "batch"],
    }
}
