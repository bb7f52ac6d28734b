"""Settings for the bulkadmin project, read from the environment (and `.env` when present)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    MONGODB_URI=(str, ""),
    MONGODB_DB=(str, "bulkadmin"),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "bulkadmin",
    "project",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Background work: Django's Tasks API with the database backend (`manage.py db_worker`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# MongoDB: set MONGODB_URI for a real server; when empty an embedded server runs under var/mongo/.
MONGODB_URI = env("MONGODB_URI")
MONGODB_DB = env("MONGODB_DB")
BULKADMIN_EMBEDDED_DIR = VAR_DIR
# Job files (an import's full error file: <dir>/<job id>/errors.csv).
BULKADMIN_JOBS_DIR = Path(env("BULKADMIN_JOBS_DIR", default="") or VAR_DIR / "jobs")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"bulkadmin": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")}},
}

# The web admin: undo keeps pre-images of up to this many documents per job, for this many days;
# a running job whose worker has not reported for this many seconds is shown as interrupted.
BULKADMIN_UNDO_LIMIT = env.int("BULKADMIN_UNDO_LIMIT", default=100_000)
BULKADMIN_UNDO_DAYS = env.int("BULKADMIN_UNDO_DAYS", default=30)
BULKADMIN_JOB_STALE_SECONDS = env.int("BULKADMIN_JOB_STALE_SECONDS", default=300)
# The Import page streams uploads to <BULKADMIN_JOBS_DIR>/uploads/ and refuses larger files.
BULKADMIN_UPLOAD_MAX_BYTES = env.int("BULKADMIN_UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)
# Previews, counts and browse searches a user composes stop after this many milliseconds.
BULKADMIN_USER_READ_MAX_TIME_MS = env.int("BULKADMIN_USER_READ_MAX_TIME_MS", default=5000)
