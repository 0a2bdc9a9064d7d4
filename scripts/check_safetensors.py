#!/usr/bin/env python3
"""Cross-check a saved model outside Swift: train a dense linear model (with standardization) with
the built binary, load model.safetensors with Python's `safetensors` + numpy, recompute every reward
from the JSONL and compare with `upweight score`. Installs safetensors with pip when missing."""
import json
import os
import subprocess
import sys
import tempfile

try:
    from safetensors.numpy import load_file
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "safetensors", "numpy"], check=True)
    from safetensors.numpy import load_file
import numpy as np

binary = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = os.path.join(root, "Tests/UpweightTests/Fixtures/linear-dense-margin/train.jsonl")
with tempfile.TemporaryDirectory() as work:
    model = os.path.join(work, "model")
    subprocess.run([binary, "train", data, "--standardize", "--l2", "0.01", "--out", model],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scored = subprocess.run([binary, "score", model, data], check=True, capture_output=True, text=True).stdout
    tensors = load_file(os.path.join(model, "model.safetensors"))
    config = json.load(open(os.path.join(model, "config.json")))

theta = tensors["linear.weight"].astype(np.float64)
standardize = config["featurizer"]["standardize"]
mean, std = np.array(standardize["mean"]), np.array(standardize["std"])
records = [json.loads(line) for line in open(data) if line.strip()]
chosen = (np.array([r["chosen_features"] for r in records]) - mean) / std @ theta
rejected = (np.array([r["rejected_features"] for r in records]) - mean) / std @ theta
lines = [json.loads(line) for line in scored.splitlines()]
ours_chosen = np.array([line["chosen_reward"] for line in lines])
ours_rejected = np.array([line["rejected_reward"] for line in lines])
assert len(lines) == len(records), (len(lines), len(records))
worst = max(np.max(np.abs(ours_chosen - chosen)), np.max(np.abs(ours_rejected - rejected)))
scale = max(np.max(np.abs(chosen)), 1.0)
assert worst <= 1e-5 * scale, f"score differs from numpy by {worst}"
print(f"safetensors check: {len(lines)} pairs, numpy recomputes upweight score within {worst:.2e}: ok")
