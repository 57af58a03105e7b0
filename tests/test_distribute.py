"""``fit`` under a ``tf.distribute`` strategy's scope trains on its replicas.

TensorFlow's logical devices can only be configured before it starts, so the
check runs in a subprocess that splits the CPU into two logical devices.
"""

import keras
import pytest

from _helpers import run_json_script

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's"
)

SCRIPT = """
import json, pickle, sys, warnings
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skdec import DECClusterer, cluster_accuracy
from skdec._trainers import TRAINER_POOL

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = make_blobs(600, centers=4, cluster_std=1.0, random_state=0)
# Scaled, as the README asks: on these raw blobs the fast phase that learns
# the start does not settle within max_iter=300.
X = StandardScaler().fit_transform(X).astype("float32")
outs = []
for kind, weight in [("mirrored", 0.0), ("multi_worker", 1.0)]:
    params = dict(hidden_layer_sizes=(32,), n_components=2, pretrain_epochs=20,
                  max_iter=300, update_interval=50, batch_size=64, n_init=5,
                  random_state=0, reconstruction_weight=weight,
                  init="kmeans")  # the strategy's test, not the start's: no UMAP
    if kind == "mirrored":
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions()
        )
    one = DECClusterer(4, **params).fit(X)
    with strategy.scope():
        two = DECClusterer(4, **params).fit(X)
    trainers = [t for key, ts in TRAINER_POOL._free.items()
                if key[-1] is strategy for t in ts]
    outs.append({
        "strategy": kind,
        "replicas": strategy.num_replicas_in_sync,
        # Pretraining and self-training both ran on the strategy's replicas.
        "kinds": sorted({type(t).__name__ for t in trainers}),
        "trained_under_strategy": bool(trainers) and all(
            (t.model if hasattr(t, "model") else t.autoencoder).distribute_strategy
            is strategy for t in trainers),
        "acc_one": cluster_accuracy(y, one.labels_),
        "acc_two": cluster_accuracy(y, two.labels_),
        "agreement": cluster_accuracy(one.labels_, two.labels_),
        # Outside the scope the fitted model predicts and pickles as usual.
        "predict_outside": bool((two.predict(X) == two.labels_).all()),
        "pickle": bool((pickle.loads(pickle.dumps(two)).predict(X)
                        == two.labels_).all()),
    })
print(json.dumps(outs))
"""


def test_fit_in_strategy_scope_matches_one_device():
    # DEC's clusterer under one strategy, the joint (IDEC) model under the
    # other, in one process (importing TensorFlow takes about 10 s).
    outs = run_json_script(SCRIPT, env={"CUDA_VISIBLE_DEVICES": ""}, drop=["TF_CONFIG"])
    assert [out["strategy"] for out in outs] == ["mirrored", "multi_worker"]
    for out in outs:
        assert out["replicas"] == (2 if out["strategy"] == "mirrored" else 1)
        assert out["kinds"] == ["AutoencoderTrainer", "ClusteringTrainer"]
        assert out["trained_under_strategy"]
        assert out["acc_one"] > 0.9
        assert abs(out["acc_two"] - out["acc_one"]) <= 0.02
        assert out["agreement"] >= 0.98
        assert out["predict_outside"]
        assert out["pickle"]
