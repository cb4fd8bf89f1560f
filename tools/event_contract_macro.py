"""Write the event contract's ranges as a dbt macro, so staging checks exactly the JSON Schema's ranges.

    python tools/event_contract_macro.py           # (re)write dbt/macros/event_contract.sql
    python tools/event_contract_macro.py --check   # exit 1 if the macro is out of date (make lint)

The ranges' one home is include/contracts/heart_rate_event.schema.json; dbt cannot
read it, so this generated macro carries them, and `make lint` fails when they differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from include.contracts.heart_rate_event import limits  # noqa: E402
from include.contracts.paths import DBT_PROJECT_DIR  # noqa: E402

MACRO = DBT_PROJECT_DIR / "macros" / "event_contract.sql"


def render() -> str:
    ranges = {name: [low, high] for name, (low, high) in limits().items()}
    return (
        "{#- Generated from include/contracts/heart_rate_event.schema.json by tools/event_contract_macro.py;\n"
        "    do not edit (`make lint` checks it). The contract's [minimum, maximum] per field. -#}\n"
        "{% macro event_contract_ranges() -%}\n"
        f"    {{{{ return({json.dumps(ranges, sort_keys=True)}) }}}}\n"
        "{%- endmacro %}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the macro differs from the schema")
    args = parser.parse_args()
    wanted = render()
    if args.check:
        if not MACRO.exists() or MACRO.read_text() != wanted:
            print(f"error: {MACRO.relative_to(ROOT)} is out of date with the event's JSON Schema: "
                  "run `python tools/event_contract_macro.py`", file=sys.stderr)
            return 1
        return 0
    MACRO.write_text(wanted)
    print(f"wrote {MACRO.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
