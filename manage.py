#!/usr/bin/env python
"""Django's command-line utility.

A bad setting ends with one line naming the variable; a database that was never migrated with
one line saying to run ``migrate`` (portal/management/unmigrated.py), not a traceback.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    from portal.config import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)
    except Exception as exc:
        from portal.management.unmigrated import missing_tables

        message = missing_tables(exc)
        if message is None:
            raise
        sys.stderr.write(message + "\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
