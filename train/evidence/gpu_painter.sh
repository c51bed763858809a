#!/usr/bin/env bash
# The painter network's GPU run (issue 18, item 7) and the CUDA checks, as one prepared script for
# the `device` machine (an H100 or H200: torch 2.11, Lightning 2.6.6, no PyAV, no pip downloads).
#
# Here, first:   bash train/evidence/gpu_painter.sh prepare     (fills .gpu/, which git ignores)
# Then, there:   bash train/evidence/gpu_painter.sh train       (carry .gpu/vgg16_features.pth .gpu/photos .gpu/styles; about 9 minutes)
#                bash train/evidence/gpu_painter.sh checks      (carry .gpu/wheels .gpu/clip1080.mp4; pytest -m gpu,
#                                                                 the 1080p bench, --steady's cost at 1080p)
# Test it here at tiny sizes: TINY=1 OUT=/tmp/gpu_out bash train/evidence/gpu_painter.sh train
#
# The tree that travels is capped at 64 MiB and the tracked files are about 54 MB, 49 of them the
# preview images of weights/ and train/evidence/, which no GPU step reads. Before a `run`, set them
# aside, and put them back after it (both lines are in `prepare`'s last words):
#   mkdir -p /tmp/aside && git ls-files -z 'weights/*.png' 'weights/*.jpg' 'train/evidence/*.jpg' | xargs -0 -I{} mv {} /tmp/aside/
#   git checkout -- weights train/evidence
# `train` needs the VGG16 weights (29 MB) and the photos; `checks` needs PyAV's wheel (36 MB): one
# call cannot carry both, hence two modes. The trained network comes back as one tar file of the
# network and its twelve codes, to be measured here (look_evidence.py, flicker_table.py) against
# the shipped one.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:?prepare, train or checks}
GPU=.gpu
SHARED=${SHARED:-../shared/data}
OUT=${OUT:?OUT: the folder for what comes back}
mkdir -p "$OUT"

install_stylecam() {
  python3 -m pip install -q --no-deps --no-build-isolation -e . > "$OUT/install.log" 2>&1
}

case "$MODE" in
prepare)
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  rm -rf "$GPU" && mkdir -p "$GPU/photos" "$GPU/styles" "$GPU/wheels"
  cp "$SHARED/vgg16_imagenet/vgg16_features.pth" "$GPU/"
  # The photos and paintings at a long side of at most 768 px (256 px crops at several scales need
  # no more): 6.9 MB instead of 10.3.
  .venv/bin/python - "$SHARED" "$GPU" <<'PY'
import sys
from pathlib import Path
import cv2
shared, gpu = Path(sys.argv[1]), Path(sys.argv[2])
held_out = {"skimage-astronaut.jpg", "opencv-messi5.jpg"}  # pictures no run may see: they judge the faces
for source, folder in ((shared / "content", gpu / "photos"), (shared / "styles", gpu / "styles")):
    for path in sorted(source.glob("*.jpg")):
        if path.name in held_out:
            continue
        image = cv2.imread(str(path))
        scale = 768 / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / path.name), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
PY
  # 120 frames of the street video at 1920x1080: does --steady's flow, found in a thread, keep up with the GPU?
  .venv/bin/python - "$SHARED/video/vtest.avi" "$GPU/clip1080.mp4" <<'PY'
import sys
import av
with av.open(sys.argv[1]) as source, av.open(sys.argv[2], "w") as target:
    stream = target.add_stream("libx264", rate=10, options={"crf": "30", "preset": "veryfast"})
    stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
    for index, frame in enumerate(source.decode(video=0)):
        if index == 120:
            break
        target.mux(stream.encode(frame.reformat(width=1920, height=1080, format="yuv420p")))
    target.mux(stream.encode())
PY
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$GPU/wheels" av==18.1.0
  du -sh "$GPU"/* | tee "$OUT/prepare.log"
  echo "set the previews aside before each run:  mkdir -p /tmp/aside && git ls-files -z 'weights/*.png' 'weights/*.jpg' 'train/evidence/*.jpg' | xargs -0 -I{} mv {} /tmp/aside/"
  echo "and put them back after it:              git checkout -- weights train/evidence"
  ;;
train)
  [ -n "${TINY:-}" ] || install_stylecam
  # From the shipped network, at the classic settings (256 px crops, the painting at 512, batch 16),
  # the last CPU stage's loss weights and stability terms; a fixed budget of minutes.
  if [ -n "${TINY:-}" ]; then
    SIZES=(--crop-size 32 --style-size 64 --batch-size 2 --max-steps 2 --accelerator cpu --precision 32 --num-workers 0)
  else
    SIZES=(--crop-size 256 --style-size 512 --batch-size 16 --max-minutes "${MINUTES:-7}" --accelerator cuda --precision bf16-mixed --num-workers 8)
  fi
  stylecam train --style-image "$GPU/styles" --data "$GPU/photos" --name painter --out "$OUT/painter" --workdir /tmp/gpu_runs \
    --init-from weights/networks/painter.safetensors "${SIZES[@]}" --lr 2e-4 --lr-warmup-steps 30 \
    --style-weight 4 --content-weight 6 --tv-weight 10 --temporal-weight 1000 --noise-weight 1000 \
    --vgg-weights "$GPU/vgg16_features.pth" --default-scale 1.0 --overwrite 2>&1 | tr '\r' '\n' | { grep -v "it/s" || true; } | tee "$OUT/train.log"
  # One file back (at most 16 MB): the network, the codes and two previews; the other previews stay there.
  (cd "$OUT" && tar -cf painter_gpu.tar painter/networks painter/*.safetensors painter/README.md painter/starry_night.png painter/wave.png)
  rm -rf "$OUT/painter"
  ;;
checks)
  [ -n "${TINY:-}" ] || install_stylecam
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$GPU"/wheels/av-*.whl && export PYTHONPATH=/tmp/site
  python3 -m pytest -m gpu -q -p no:cacheprovider 2>&1 | tee "$OUT/pytest_gpu.log" || true
  stylecam bench --device cuda --size 1920x1080 --frames 300 --backend compile --precision fp16 \
    --backends eager,compile --precisions fp32,fp16 > "$OUT/bench_1080p.json" 2> "$OUT/bench_1080p.log" || true
  stylecam bench-train --device cuda > "$OUT/bench_train.json" 2> "$OUT/bench_train.log" || true
  python3 -m stylecam.steady > "$OUT/steady_cost.log" 2>&1 || true
  for steady in "" "--steady --steady-flow fast" "--steady --steady-flow fine"; do
    stylecam video "$GPU/clip1080.mp4" -o /tmp/steady.mp4 --overwrite --device cuda --quiet --json $steady >> "$OUT/steady_1080p.jsonl" 2>> "$OUT/steady_1080p.log" || true
  done
  ;;
*)
  echo "gpu_painter.sh: unknown mode $MODE (prepare, train or checks)" >&2
  exit 2
  ;;
esac
