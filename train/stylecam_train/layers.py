"""The VGG16 layers the losses can use, and the recipe's defaults: names only, no torch, so that
`stylecam train --help` (which shows the defaults) answers at once."""

from __future__ import annotations

from collections.abc import Iterable

from stylecam_train.errors import TrainingInputError, UnknownLayerError

# Index in torchvision's vgg16().features of each ReLU output, in forward order.
LAYER_INDEX = {
    "relu1_1": 1, "relu1_2": 3,
    "relu2_1": 6, "relu2_2": 8,
    "relu3_1": 11, "relu3_2": 13, "relu3_3": 15,
    "relu4_1": 18, "relu4_2": 20, "relu4_3": 22,
    "relu5_1": 25, "relu5_2": 27, "relu5_3": 29,
}  # fmt: skip
LAYER_NAMES = tuple(LAYER_INDEX)
LAYER_NAMES = tuple(LAYER_INDEX)

# Deeper layers carry the swirls and strokes; relu1_2 holds edge statistics, and at an equal
# relative weight it gets a large share and produces a fine criss-cross hatching in flat
# areas (trial runs whose images were not kept; train/evidence/README.md, "What decides the
# look", says how to repeat such a comparison with --style-layers). A quarter weight keeps its
# colour and texture statistics without letting them dominate.
DEFAULT_STYLE_LAYERS = {"relu1_2": 0.25, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0}
# relu2_2: the classic choice (pytorch/examples) that keeps object outlines readable.
DEFAULT_CONTENT_LAYERS = {"relu2_2": 1.0}


def check_layers(names: Iterable[str]) -> list[str]:
    """The names, in order, or UnknownLayerError naming the bad ones and listing the valid ones."""
    names = list(names)
    unknown = [name for name in names if name not in LAYER_INDEX]
    if unknown:
        raise UnknownLayerError(f"unknown VGG16 layer {', '.join(unknown)} (valid layers: {', '.join(LAYER_NAMES)})")
    return names


def parse_layer_weights(text: str) -> dict[str, float]:
    """'relu1_2:0.25,relu2_2' -> {'relu1_2': 0.25, 'relu2_2': 1.0}; names are checked by the caller."""
    weights: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, value = item.partition(":")
        try:
            weights[name.strip()] = float(value) if value else 1.0
        except ValueError as error:
            raise TrainingInputError(f"layer weight '{item}' is not NAME or NAME:NUMBER") from error
    if not weights:
        raise TrainingInputError(f"no layers in '{text}'")
    return weights
