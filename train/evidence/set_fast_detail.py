"""Give fast style codes a default --detail, keep everything else, and redraw their previews.

The detail a fast style adds back by default (``default_detail`` in its file, see
stylecam.frames.apply_controls) is a runtime default, like its processing scale: setting it
changes no weight, so each file is written again with its tensors exactly as stored (the shipped
codes are fp16) and its metadata changed in that one field. The codes stay codes of the same fast
painter network (whose SHA-256 they name). Each preview (NAME.png: photos, the teacher, the
student) is drawn again with the detail, as the runtime shows the student. `stylecam distill`
writes the same field for the students it makes (--detail). The shipped twelve were given 0.5:

    python train/evidence/set_fast_detail.py --detail 0.5 --data ../shared/data/content weights/*_fast.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stylecam.choices import MAX_DETAIL
from stylecam.weights import load_style, set_style_defaults
from stylecam_train.distill import load_photos, write_preview_and_line
from stylecam_train.export import pick_photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("codes", nargs="+", type=Path, help="fast style code files (NAME_fast.safetensors)")
    parser.add_argument("--detail", type=float, required=True, help=f"the default detail, 0 to {MAX_DETAIL:g}")
    parser.add_argument("--data", type=Path, required=True, help="the photo folder the codes were distilled on (the previews' photos)")
    args = parser.parse_args()
    if not 0 <= args.detail <= MAX_DETAIL:
        parser.error(f"--detail must be from 0 to {MAX_DETAIL:g}")
    shown = pick_photos(load_photos(args.data), 3)  # the photos `stylecam distill` picked for these previews
    for path in args.codes:
        style, student = load_style(str(path))
        teacher_record = style.metadata.training.get("distilled_from")
        if style.code is None or teacher_record is None:
            raise SystemExit(f"error: {path} is not a distilled style code")
        metadata = set_style_defaults(path, default_detail=args.detail)
        teacher, teacher_model = load_style(teacher_record["style"])
        write_preview_and_line(path, metadata, teacher_model, teacher.default_scale, student, shown)
        print(f"{path}: default detail {args.detail:g}, preview redrawn")


if __name__ == "__main__":
    main()
