"""Superset's side of ``kpi bi``, run with bi/.venv's Python (never by the pipeline).

    python bi/launch.py provision BUNDLE.zip   # migrate, roles, admin, import the bundle
    python bi/launch.py serve HOST PORT        # gunicorn in the foreground until SIGTERM

``kpi bi`` (dagster_project/serve/bi.py) writes the bundle from the metric definitions, the
secret key and the environment: KPI_BI_HOME (Superset's state), SUPERSET_CONFIG_PATH (this
folder's superset_config.py) and, for ``provision`` only, KPI_BI_PASSWORD, the admin's
password (from the environment, never the command line, which other users can read).
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

ADMIN = "admin"


def provision(bundle: Path) -> None:
    """Bring the home's metadata to this Superset's schema, sync roles, set the admin's
    password and import the bundle, overwriting what an earlier bundle put there (same UUIDs):
    re-provisioning updates in place; charts added by hand keep their own UUIDs and stay."""
    from flask_migrate import upgrade
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.extensions import appbuilder, db, security_manager
        from superset.utils.core import override_user

        upgrade()
        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        password = os.environ["KPI_BI_PASSWORD"]
        admin = security_manager.find_user(username=ADMIN)
        if admin is None:
            admin = security_manager.add_user(
                ADMIN,
                "KPI",
                "Admin",
                "admin@localhost",
                security_manager.find_role("Admin"),
                password=password,
            )
            if not admin:
                sys.exit("could not create the admin user")
        else:
            security_manager.reset_password(admin.id, password)
        db.session.commit()
        with zipfile.ZipFile(bundle) as archive:
            contents = {
                name.split("/", 1)[1]: archive.read(name).decode("utf-8")
                for name in archive.namelist()
            }
        with override_user(admin):
            ImportAssetsCommand(contents).run()


def serve(host: str, port: str) -> None:
    """Superset under gunicorn, replacing this process: SIGTERM stops it and its workers."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    os.execv(
        gunicorn,
        [
            gunicorn,
            "--bind", f"{host}:{port}",
            "--workers", "1",
            "--threads", "8",
            "--timeout", "120",
            "--graceful-timeout", "5",
            "--log-level", "warning",
            "superset.app:create_app()",
        ],
    )  # fmt: skip


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "provision":
        provision(Path(args[0]))
    elif command == "serve":
        serve(*args)
    else:
        sys.exit(f"unknown command {command!r}: provision BUNDLE.zip | serve HOST PORT")
