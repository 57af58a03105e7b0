"""
A medical table as it comes: categories, gaps, and what each cluster is
=======================================================================

The serum free light chain study (``flchain``, shipped with scikit-survival)
follows 7,874 residents of Olmsted County. Its columns mix numbers (age,
the kappa and lambda light chains, creatinine) with categories (sex, the
light-chain group, MGUS diagnosis, sample year, and the chapter of the cause
of death), and creatinine is missing in 1,350 rows, the chapter in everyone
still alive.

:func:`skdec.tables.make_tabular_pipeline` turns such a table into a
scikit-learn pipeline: numbers imputed with their median and standardised,
categories imputed with a ``"missing"`` category and one-hot encoded, then
DEC. The ``skdec`` command runs the same pipeline (see :ref:`cli`):

.. code-block:: bash

   skdec fit flchain.csv --n-clusters 3 --out flchain.skdec \
       --label-column death --ignore chapter
   skdec predict flchain.skdec new_patients.csv --out clusters.csv
   skdec profile flchain.skdec flchain.csv --out profile.csv

To keep the documentation build short, this example uses 2,000 rows and a
small network.
"""

# %%
# The table
# ---------
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sksurv.datasets import load_flchain

import skdec
from skdec import DECClusterer
from skdec.plotting import plot_cluster_profile
from skdec.tables import cluster_profile, make_tabular_pipeline

X, y = load_flchain()
table = X.assign(death=y["death"].astype(int)).sample(2000, random_state=0)
table = table.reset_index(drop=True)
print(table.dtypes.to_string())
print(table.isna().sum()[lambda n: n > 0].to_string())

# %%
# One pipeline for the table
# --------------------------
# ``death`` is the outcome, not a feature: it is ignored here and used below
# to read the clusters. So is ``chapter``, the chapter of the cause of death:
# it is missing exactly for the people still alive, and missing values are a
# category of their own, so ``chapter_missing`` would be ``death == 0`` under
# another name. Clustered with it, the clusters would follow death by
# construction, and the table of clusters against death below would prove
# nothing.
print(pd.crosstab(table["chapter"].isna(), table["death"]))
dec = DECClusterer(
    n_clusters=3,
    hidden_layer_sizes=(32,),
    n_components=4,
    pretrain_epochs=15,
    batch_size=128,
    max_iter=300,
    update_interval=50,
    random_state=0,
)
pipe = make_tabular_pipeline(table, dec, ignore=["death", "chapter"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # self-training may stop at max_iter
    labels = pipe.fit(table).predict(table)
print(pipe[0].get_feature_names_out())
print("cluster sizes:", np.bincount(labels))

# %%
# New patients, with gaps
# -----------------------
# Missing values are imputed as in fitting, and a category never seen
# before still gets a cluster.
new = table.drop(columns=["death", "chapter"]).head(3).copy()
new.loc[0, "creatinine"] = np.nan
new.loc[1, ["kappa", "lambda"]] = np.nan
new["sample.yr"] = new["sample.yr"].astype(object)
new.loc[2, "sample.yr"] = "2010"  # after the study
print(pipe.predict(new))

# %%
# What each cluster is
# --------------------
# :func:`~skdec.tables.cluster_profile` compares each cluster with the other
# rows, column by column, in the table's own units: means and medians of the
# numbers, shares of the categories, and the standardised difference (the
# difference of the means over the pooled standard deviation within the two
# groups) that ranks the features. It describes the columns the pipeline
# used, as the pipeline read them.
kinds = {part: columns for part, _, columns in pipe[0].transformers}
profile = cluster_profile(table, labels, **kinds)
columns = ["feature", "cluster_mean", "other_mean", "std_difference"]
for cluster, rows in profile.groupby("cluster"):
    print(f"cluster {cluster}: {rows['size'].iloc[0]} rows")
    print(rows.head(4)[columns].to_string(index=False), end="\n\n")

# %%
# Neither the outcome nor the column that encodes it was used to cluster;
# set against the clusters, the outcome tells whether they differ in
# survival.
clusters = pd.Series(labels, name="cluster")
print(pd.crosstab(clusters, table["death"], normalize="index").round(2))

# %%
# The profile as a heatmap
# ------------------------
ax = plot_cluster_profile(profile, top=10)

# %%
# One safe file
# -------------
# :func:`skdec.save` writes the preprocessing and DEC to one file;
# :func:`skdec.load` reads it back without unpickling anything.
with tempfile.TemporaryDirectory() as folder:
    skdec.save(pipe, Path(folder) / "flchain.skdec")
    loaded = skdec.load(Path(folder) / "flchain.skdec")
print(bool((loaded.predict(table) == labels).all()))
