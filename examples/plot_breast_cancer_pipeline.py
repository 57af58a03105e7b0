"""
Clustering a medical table in a pipeline
========================================

Cluster the 569 tumours of scikit-learn's breast-cancer table (30 numeric
features measured on cell nuclei) into two groups with a small DEC network,
choose the embedding size with :class:`~sklearn.model_selection.GridSearchCV`
scored by :data:`skdec.cluster_accuracy_scorer`, and compare with k-means. The
diagnosis (malignant or benign) is used only to score, never to fit.

On a table this small, DEC has little to gain over k-means on standardised
features: see :ref:`the user guide <user_guide>`.
"""

# %%
# The data: standardise every column inside the pipeline, so that each
# cross-validation fold is scaled with its own training rows.
import matplotlib.pyplot as plt
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skdec import DECClusterer, cluster_accuracy, cluster_accuracy_scorer
from skdec.plotting import plot_confusion_matrix, plot_embedding, plot_history

X, y = load_breast_cancer(return_X_y=True)
print(f"{X.shape[0]} tumours, {X.shape[1]} features")

# %%
# A small network: the paper's 500-500-2000 layers are meant for images. The
# grid compares two embedding sizes by cluster accuracy on held-out folds.
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "dec",
            DECClusterer(
                n_clusters=2,
                hidden_layer_sizes=(32,),
                pretrain_epochs=30,
                batch_size=64,
                max_iter=300,
                update_interval=30,
                n_init=5,
                random_state=0,
            ),
        ),
    ]
)
search = GridSearchCV(
    pipe, {"dec__n_components": [2, 5]}, scoring=cluster_accuracy_scorer, cv=3
)
search.fit(X, y)
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
):
    print(f"{params}: mean held-out cluster accuracy {score:.3f}")

# %%
# The best pipeline, refitted on all rows, against k-means on the same scaled
# features.
dec_labels = search.predict(X)
kmeans = make_pipeline(
    StandardScaler(), KMeans(n_clusters=2, n_init=20, random_state=0)
)
kmeans_labels = kmeans.fit_predict(X)
print(f"DEC accuracy:     {cluster_accuracy(y, dec_labels):.3f}")
print(f"k-means accuracy: {cluster_accuracy(y, kmeans_labels):.3f}")

# %%
# The clusters against the diagnosis, after matching each cluster to one
# class (0 is malignant, 1 benign), and the embedding of the rows.
best = search.best_estimator_
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_confusion_matrix(y, dec_labels, ax=ax1)
plot_embedding(best, X, y=y, ax=ax2)
plt.show()

# %%
# How the fit went: reconstruction loss while pretraining, then the KL loss
# and the fraction of changed labels at each target update.
plot_history(best)
plt.show()
