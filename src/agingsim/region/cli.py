"""``agingsim region template OUT.xlsx`` and ``agingsim region import FILLED.xlsx --id NAME``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def cmd_template(args: argparse.Namespace) -> int:
    from agingsim.region.template import write_template

    out = write_template(args.out, force=args.force)
    print(f"模板已写入 Template written: {out}")
    print(f"填写后 When filled: agingsim region import {out} --id NAME")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from agingsim.region.importer import default_out_dir, import_workbook
    from agingsim.scenario.files import display_path, project_root

    paths = import_workbook(args.workbook, args.id, args.out_dir, force=args.force)
    print(f"已导入 Imported region '{args.id}':")
    for p in paths.all():
        print(f"  {display_path(p)}")
    files = {"margins": paths.margins, "behaviour": paths.behaviour}
    if paths.region.parent.resolve() == default_out_dir().resolve():
        # paths relative to scenarios/, where scenarios live: absolute ones break on another machine
        print("情景文件放在 scenarios/ 中使用 With the scenario file in scenarios/:")
        here = project_root() / "scenarios"
        rel = {k: Path(os.path.relpath(p.resolve(), here)).as_posix() for k, p in files.items() if p}
        names = {"region": args.id, **rel}
    else:  # a scenario reads only calibration/, scenarios/ and its own folder (and below)
        print(f"情景文件放在 {paths.region.parent} 中使用 With the scenario file in that folder:")
        names = {"region": paths.region.name, **{k: p.name for k, p in files.items() if p is not None}}
    print("  [population]")
    for key, value in names.items():
        print(f'  {key} = "{value}"')
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
