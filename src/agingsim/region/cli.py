"""``agingsim region template OUT.xlsx`` and ``agingsim region import FILLED.xlsx --id NAME``."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_template(args: argparse.Namespace) -> int:
    from agingsim.region.template import write_template

    out = write_template(args.out, force=args.force)
    print(f"模板已写入 Template written: {out}")
    print(f"填写后 When filled: agingsim region import {out} --id NAME")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from agingsim.region.importer import default_out_dir, import_workbook
    from agingsim.scenario.loader import display_path

    paths = import_workbook(args.workbook, args.id, args.out_dir, force=args.force)
    print(f"已导入 Imported region '{args.id}':")
    for p in paths.all():
        print(f"  {display_path(p)}")
    print("情景中使用 Use it in a scenario:")
    print("  [population]")
    bundled = paths.region.parent.resolve() == default_out_dir().resolve()
    print(f'  region = "{args.id if bundled else paths.region.resolve()}"')
    for key, path in (("margins", paths.margins), ("behaviour", paths.behaviour)):
        if path is not None:
            print(f'  {key} = "{path.resolve()}"')
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    region = subparsers.add_parser("region", help="bring your own region: Excel template and import")
    sub = region.add_subparsers(dest="region_command", required=True)
    tpl = sub.add_parser("template", help="write the empty region workbook (Chinese and English headers)")
    tpl.add_argument("out", help="the .xlsx file to write")
    tpl.add_argument("--force", action="store_true", help="replace an existing file")
    tpl.set_defaults(func=cmd_template)
    imp = sub.add_parser("import", help="check a filled workbook and write the region's files")
    imp.add_argument("workbook", help="the filled .xlsx")
    imp.add_argument("--id", required=True, help="region id: a-z, 0-9, _ (the files are named after it)")
    imp.add_argument("--out-dir", type=Path, help="folder for the files (default: calibration/regions)")
    imp.add_argument("--force", action="store_true", help="replace this id's existing files")
    imp.set_defaults(func=cmd_import)
