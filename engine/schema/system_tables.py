"""The platform's own tables (``tg_*``): apps and their versions, users, access control, audit,
history, jobs."""

from __future__ import annotations

import sqlalchemy as sa

from form_engine import UTCDateTime, id_column_type, json_column

metadata = sa.MetaData()


def _id() -> sa.Column[int]:
    return sa.Column("id", id_column_type(), primary_key=True, autoincrement=True)


apps = sa.Table(
    "tg_apps",
    metadata,
    sa.Column("name", sa.String(30), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("package", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

app_versions = sa.Table(
    "tg_app_versions",
    metadata,
    sa.Column("app", sa.String(30), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("package", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("note", sa.Text),
)

#: Which bundled template (and which version of it) an app was installed from, with that
#: version's package: the common ancestor a template upgrade merges against.
app_templates = sa.Table(
    "tg_app_templates",
    metadata,
    sa.Column("app", sa.String(30), primary_key=True),
    sa.Column("template", sa.String(100), nullable=False),
    sa.Column("template_version", sa.String(50), nullable=False),
    sa.Column("base", json_column(), nullable=False),
    sa.Column("installed_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

removed_fields = sa.Table(
    "tg_removed_fields",
    metadata,
    sa.Column("app", sa.String(30), primary_key=True),
    sa.Column("entity", sa.String(30), primary_key=True),
    sa.Column("field_id", sa.String(50), primary_key=True),
    sa.Column("column_name", sa.String(63), nullable=False),
    sa.Column("field", json_column(), nullable=False),
    sa.Column("removed_at", UTCDateTime, nullable=False),
)

users = sa.Table(
    "tg_users",
    metadata,
    _id(),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200)),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True),
    sa.Column("department_id", sa.BigInteger),
    sa.Column("manager_id", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

tokens = sa.Table(
    "tg_tokens",
    metadata,
    _id(),
    sa.Column("user_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("last_used_at", UTCDateTime),
)

history = sa.Table(
    "tg_history",
    metadata,
    _id(),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("entity", sa.String(30), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("op", sa.String(20), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.BigInteger),
    sa.Column("changes", json_column()),
    sa.Index("ix_tg_history_record", "app", "entity", "record_id"),
)

sequences = sa.Table(
    "tg_sequences",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

jobs = sa.Table(
    "tg_jobs",
    metadata,
    _id(),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("payload", json_column(), nullable=False),
    #: at most one job per key, ever (done and dead jobs keep theirs): an idempotent enqueue
    sa.Column("key", sa.String(200), unique=True),
    sa.Column("run_at", UTCDateTime, nullable=False),
    #: pending -> done, or back to pending with a later run_at after a failure, or dead after the
    #: last attempt; running only on SQLite, between a leased claim and its end
    sa.Column("status", sa.String(20), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("locked_by", sa.String(100)),
    sa.Column("locked_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Index("ix_tg_jobs_due", "status", "run_at"),
)

departments = sa.Table(
    "tg_departments",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("parent_id", sa.BigInteger, index=True),
    sa.Column("head_id", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

role_assignments = sa.Table(
    "tg_role_assignments",
    metadata,
    sa.Column("app", sa.String(30), primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("role", sa.String(50), primary_key=True),
    sa.Column("assigned_at", UTCDateTime, nullable=False),
    sa.Column("assigned_by", sa.BigInteger),
    sa.Index("ix_tg_role_assignments_user", "user_id"),
)

shares = sa.Table(
    "tg_shares",
    metadata,
    _id(),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("entity", sa.String(30), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("department_id", sa.BigInteger),
    sa.Column("access", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger),
    sa.Index("ix_tg_shares_record", "app", "entity", "record_id"),
)

audit = sa.Table(
    "tg_audit",
    metadata,
    _id(),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("event", sa.String(50), nullable=False, index=True),
    sa.Column("actor", sa.BigInteger, index=True),
    sa.Column("username", sa.String(100)),
    sa.Column("app", sa.String(30)),
    sa.Column("target", sa.String(200)),
    sa.Column("ip", sa.String(100)),
    sa.Column("details", json_column()),
)

login_failures = sa.Table(
    "tg_login_failures",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("locked_until", UTCDateTime),
)

idempotency_keys = sa.Table(
    "tg_idempotency_keys",
    metadata,
    _id(),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    #: what the request asked for (app, entity, body), so a reused key with another body is refused
    sa.Column("fingerprint", sa.String(64), nullable=False),
    #: the ids the first request created, in order
    sa.Column("record_ids", json_column(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("user_id", "key", name="uq_tg_idempotency_keys_user_key"),
)

#: A spreadsheet import: the file itself (so a crashed import resumes from it), what to do with
#: it, and how far it got; ``next_row`` moves in the same transaction as each batch's records.
imports = sa.Table(
    "tg_imports",
    metadata,
    _id(),
    sa.Column("app", sa.String(30), nullable=False),
    sa.Column("entity", sa.String(30), nullable=False),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("options", json_column(), nullable=False),
    sa.Column("total_rows", sa.Integer, nullable=False),
    sa.Column("next_row", sa.Integer, nullable=False),
    sa.Column("tally", json_column(), nullable=False),
    sa.Column("error", json_column()),
)

import_errors = sa.Table(
    "tg_import_errors",
    metadata,
    sa.Column("import_id", sa.BigInteger, primary_key=True),
    #: the row's number in the file, the header being row 1
    sa.Column("row", sa.Integer, primary_key=True),
    sa.Column("cells", json_column(), nullable=False),
    sa.Column("problems", json_column(), nullable=False),
)

#: The column -> field mapping last used for an entity, offered first next time.
import_mappings = sa.Table(
    "tg_import_mappings",
    metadata,
    sa.Column("app", sa.String(30), primary_key=True),
    sa.Column("entity", sa.String(30), primary_key=True),
    sa.Column("mapping", json_column(), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.BigInteger),
)
