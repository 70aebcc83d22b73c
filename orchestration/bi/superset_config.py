"""Superset's configuration for `userops bi` (Superset reads it through SUPERSET_CONFIG_PATH).

Everything Superset keeps (its metadata database and a secret made on first start) lives under
SUPERSET_HOME (`.superset_home` in the checkout, git-ignored). A local tool for one analyst's
machine: for a shared deployment, set a real SECRET_KEY, a Postgres metadata database and CSP.
"""

import os
import secrets
from pathlib import Path

_home = Path(os.environ["SUPERSET_HOME"])
_home.mkdir(parents=True, exist_ok=True)
_secret = _home / "secret_key"
if not _secret.exists():
    _secret.write_text(secrets.token_urlsafe(42))

SECRET_KEY = _secret.read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_home / 'superset.db'}"
TALISMAN_ENABLED = False                 # served on localhost only
CONTENT_SECURITY_POLICY_WARNING = False
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {"zh": {"flag": "cn", "name": "Chinese"}, "en": {"flag": "us", "name": "English"}}
# The nine-grid charts show the latest day: `snapshot_date = (select max(snapshot_date) …)`.
FEATURE_FLAGS = {"ALLOW_ADHOC_SUBQUERY": True}
