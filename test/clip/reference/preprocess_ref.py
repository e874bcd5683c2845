"""CLIP's eval preprocessing, as OpenCLIP composes it from torchvision, redone with PIL and numpy.

resize (shorter side -> size, PIL bicubic) -> centre crop -> [0, 1] floats -> normalise.
Usage: preprocess_ref.py [--size 224] IMG...   prints {"shape": [n, 3, size, size], "pixels": [...]}.
"""
import argparse
import json
import sys

import numpy as np
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def resized_size(width: int, height: int, size: int) -> "tuple[int, int]":
    """torchvision Resize(int): the shorter side becomes `size`, the longer one is truncated."""
    if width <= height:
        return size, int(size * height / width)
    return int(size * width / height), size


def centre_crop_box(width: int, height: int, size: int) -> "tuple[int, int, int, int]":
    """torchvision CenterCrop's offsets: round((extent - size) / 2), rounding half to even."""
    left = int(round((width - size) / 2.0))
    top = int(round((height - size) / 2.0))
    return left, top, left + size, top + size


def preprocess(image: Image.Image, size: int) -> np.ndarray:
    """Returns float32 [3, size, size], normalised with CLIP's mean and std."""
    # Converted first, as a decoder that always yields RGB would; OpenCLIP converts after the crop,
    # which is the same for RGB and greyscale sources (not for palette or alpha ones).
    image = image.convert("RGB")
    image = image.resize(resized_size(image.width, image.height, size), resample=Image.BICUBIC)
    image = image.crop(centre_crop_box(image.width, image.height, size))
    x = np.asarray(image, dtype=np.float32) / np.float32(255)  # [size, size, 3], like ToTensor
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    if args.size < 1:
        parser.error(f"--size must be a positive integer, got {args.size}")
    batch = []
    for path in args.images:
        try:
            with Image.open(path) as image:
                batch.append(preprocess(image, args.size))
        except OSError as err:
            sys.exit(f"preprocess_ref.py: cannot read image {path}: {err}")
    pixels = np.stack(batch)
    json.dump({"shape": list(pixels.shape), "pixels": pixels.flatten().tolist()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
