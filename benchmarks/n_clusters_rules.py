"""Other rules for choosing n_clusters, side by side with skdec's, from one
pretraining per data set and seed.

Run from the repository root, for example::

    python -m benchmarks.n_clusters_rules --data-dir ../shared/datasets \\
        --seeds 0 1 2 --max-rows 10000

It answers "would another label-free rule find the class count more often?"
without a full DEC fit per rule: each data set and seed is pretrained once
with the defaults (``DECClusterer(max_iter=0)``, whose encoder is then the
pretrained one), and every rule chooses among the same candidates
(``--n-clusters-range``, default 2 to 15) on the same ``X`` and embedding
``Z``. ``--cache-dir`` keeps the pretrained networks (the estimator's
``memory``) for a rerun; ``--dec-params`` (JSON) changes the parameters of
the pretraining and of the generalisability rule's DEC fits.
The rules:

- ``skdec``: what ``DECClusterer(n_clusters="auto")`` chooses
  (:func:`skdec._n_clusters.choose_n_clusters` on ``X`` and ``Z``, with the
  seed the estimator draws from ``random_state``), from the same
  pretraining;
- ``skdec_components_infinite``: the same as ``skdec``, with the score as it
  was before what leaves a cluster counted as one link at least
  (:data:`skdec._n_clusters.LINK_WEIGHT` set to 0): clusters that are
  exactly the graph's separate groups score infinite; the control of that
  change, on the same pretraining and rows;
- ``skdec_sample``: :func:`~skdec._n_clusters.choose_n_clusters` on the
  rows the benchmark's seed samples, with that seed (the control of the
  next rule; it differs from ``skdec`` only by the seed, and so, above
  5,000 rows, by the rows sampled);
- ``skdec_map``: the same with the partitions of k-means in UMAP's map of
  ``Z`` (as for ``graph_map`` below) proposed too, the partitions that
  ``init="auto"`` starts from;
- ``skdec_by_map_equation`` and ``skdec_by_score``: as ``skdec_sample``, but
  the partition scored for each ``k`` is the proposal of highest map-equation
  saving, or of highest score (lowest mean conductance), not of highest
  modularity (``select`` of ``choose_n_clusters``);
- ``map_equation``: the criterion that picks ``init="auto"``'s start used
  for ``k`` too: for each ``k`` the proposal of highest map-equation saving
  (as ``skdec_by_map_equation`` scores it), and the ``k`` whose proposal
  saves the most bits per step on the graph of ``X``
  (:func:`skdec._modularity.codelength_saving`; ties to the smaller ``k``).
  The map equation is a minimum-description-length rule, so it charges each
  cluster its share of the code: it could stop at a ``k`` by itself;
- ``skdec_split``: ``skdec_sample``'s choice, then each of its clusters
  chosen for again on its own rows and split when its best score is two
  standard deviations above the best scores of Gaussian data of its own
  mean, covariance and size (the null of a cluster without structure), down
  to three levels (:func:`split_count`); the count of clusters left, at most
  the largest candidate;
- ``graph_Z``: the same score on the neighbour graph of ``Z`` instead of
  ``X`` (partitions from k-means on both and the graph's spectrum);
- ``graph_map``: the same score on the graph of UMAP's map of ``Z``
  (:func:`skdec._initialization.umap_view`, as ``init="umap"`` maps it, with
  as many dimensions as the largest candidate);
- ``eigengap``: the largest gap ``lambda_{k+1} - lambda_k`` of the normalised
  Laplacian of the graph of ``X``;
- ``hdbscan_map``: the number of clusters HDBSCAN finds in that UMAP map
  (``min_cluster_size`` 5% of the rows), clipped to the candidates;
- ``strength_map``: the prediction strength of Tibshirani and Walther
  (2005) in that map: the largest ``k`` whose strength is at least 0.8,
  their threshold (2 when none is);
- ``silhouette``: the baseline of :mod:`benchmarks.n_clusters`;
- ``calinski_harabasz`` and ``davies_bouldin``: the same k-means partitions
  of ``X``, the ``k`` of highest Calinski-Harabasz index (between- over
  within-cluster dispersion, each divided by its degrees of freedom) or of
  lowest Davies-Bouldin index (the mean over clusters of the worst ratio of
  two clusters' spreads to the distance of their centres), scikit-learn's;
- ``gap``: the gap statistic of Tibshirani, Walther and Hastie (2001): the
  log within-cluster sum of squares of k-means on ``X`` against its mean
  over :data:`GAP_REFERENCES` data sets drawn uniformly in the box of
  ``X``'s principal axes (their reference (b)), and their rule, the
  smallest ``k`` with ``Gap(k) >= Gap(k + 1) - s(k + 1)``, ``s`` the
  references' standard deviation times ``sqrt(1 + 1/B)`` (the largest
  candidate when none is). ``k = 1`` is not a candidate here, so the rule
  cannot say "no clusters";
- ``dip_means`` and ``dip_means_Z``: Kalogeratos and Likas' dip-means
  (NIPS 2012) on ``X`` and on ``Z``: from one cluster, split in two by
  k-means, of the clusters enough of whose rows see them as multimodal, the
  one they see as most so (highest mean dip), until none is
  (:func:`dip_means`). A row sees its cluster as multimodal when Hartigan's
  dip of its distances to the cluster's other rows is at least the largest
  of 1,000 uniform samples' (p-value 0), and a cluster splits when 10% of
  its rows do; these and the smallest cluster split, 7 rows, are the
  defaults of the authors' package, fixed before any run here (which
  cluster splits first is the paper's rule: the package judges only the
  cluster of highest mean dip, and stops when that one should not split). A cluster
  that is not Gaussian but unimodal stays whole, which the Gaussian null of
  ``skdec_split`` could not grant. One cluster counts as the smallest
  candidate;
- ``dip_merge``, ``dip_merge_Z`` and ``dip_merge_map``: merging an
  over-clustering while two clusters look like one, as DipDECK estimates
  ``k`` in a deep embedding (Leiber et al., KDD 2021), on ``X``, on ``Z``
  and in the UMAP map of ``graph_map``: k-means with the largest candidate
  ``k``, then, while some pair of clusters has a p-value of Hartigan's dip
  test above :data:`DIP_MERGE_ALPHA` for the rows of both projected onto
  the line through their means, the pair of highest p-value merges
  (:func:`dip_merge`). Two clusters cut from one unimodal group project to
  one mode; two groups apart, to two. The level 0.05 and the restarts of
  the over-clustering (:data:`DIP_MERGE_N_INIT`) were fixed before any run.
  One cluster counts as the smallest candidate;
- ``bic_map`` and ``bic_Z``: the model-based choice (Fraley and Raftery,
  2002): the number of components of the Gaussian mixture, full
  covariances, of lowest BIC, in the UMAP map of ``graph_map`` (N2D clusters
  that map with such a mixture) and in ``Z``. Its settings (full
  covariances, :data:`BIC_N_INIT` restarts) were fixed before any run;
- ``generalisability``: the criterion of the DEC paper (Xie et al., 2016,
  section 5.5): DEC (``init="kmeans"``, the paper's start, every other
  parameter at its default or as ``--dec-params`` sets it) is fitted for each
  ``k`` on 90% of the rows, and ``G = L_train / L_validation`` is the ratio of
  its loss ``KL(P || Q)`` per row on the training rows to that on the 10% held
  out, each set's target ``P`` computed from its own ``Q``. The paper reads
  ``k`` off the curve where ``G`` drops sharply; here that is the ``k`` before
  the largest drop, ``argmax G_k - G_{k+1}``. It costs a pretraining and one
  DEC fit per ``k``. It always names a ``k``, even where ``G`` barely moves or
  rises, and on a small table the held-out rows are few (10 of zoo's 101 for
  up to 15 clusters), so ``G`` is noisy there.

Every rule sees at most ``choose_n_clusters``' 5,000 sampled rows, but the
k-means partitions of the silhouette, Calinski-Harabasz and Davies-Bouldin
rules, which are of all the rows kept (the silhouette computed on 5,000);
larger data sets are first cut to ``--max-rows`` rows (seed 12345). Labels
are used for nothing but the class count that the table compares with, and
for one diagnosis: each record's ``details["class_score"]`` is the score that
skdec maximises (:func:`skdec._n_clusters.separation_score`) of the class
labelling itself, on the rows that the benchmark's seed samples (above 5,000
rows, another sample than the estimator's).

The table (printed, and written between markers to ``--out-md`` when given)
has each rule's choice per data set (the mode over seeds, the smallest on
ties, and the range), per rule on how many data sets that mode is within one
of the class count (counted apart on the data sets added after skdec's rule
was chosen, :data:`ADDED_AFTER`, and not at all on the probes), and, where
the records hold both, the mean of the classes' score beside the mean of
skdec's highest score; ``--render-only`` writes it again from the records of
``--out-json``. ``--rules`` runs only some rules and, with ``--merge``, adds
their choices to the records already in ``--out-json`` (the run is added to
the invocations the table lists). Runs side by side each write their own
``--out-json``; ``--merge-from A.json B.json --out-json main.json`` then adds
their records and runs to ``main.json`` (and runs nothing).
Each record keeps the settings its choices depend on (``--max-rows``,
``--dec-params``, ``--n-clusters-range``), and ``--merge`` refuses, before
fitting, to add to a record of the same data set and seed made with other
settings (records older than that field are not checked). The hit count of
a rule is over the data sets it ran on.
"""

import collections
import functools
import itertools
import json
import os
import sys
import tempfile
import unittest.mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.cluster import HDBSCAN, KMeans  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
)
from sklearn.mixture import GaussianMixture  # noqa: E402

from benchmarks.accuracy import (  # noqa: E402
    PACKAGED_TABLES,
    PROBES,
    SHAPES,
    UNSEEN,
    invocation_metadata,
    limit_threads,
    load_dataset,
)
from benchmarks.n_clusters import (  # noqa: E402
    argument_parser,
    dec_settings,
    invocation_lines,
    kmeans_partitions,
    most_common,
    quiet,
    read_records,
    require_records,
    save_records,
    show_table,
    silhouette_choice,
    subsample,
)
from skdec import DECClusterer, _n_clusters  # noqa: E402
from skdec._initialization import umap_view  # noqa: E402
from skdec._modularity import (  # noqa: E402
    N_NEIGHBORS,
    codelength_saving,
    neighbor_graph,
)
from skdec._n_clusters import (  # noqa: E402
    MAX_ROWS,
    _sample,
    choose_n_clusters,
    laplacian_spectrum,
    separation_score,
)

MD_BEGIN = "<!-- benchmarks.n_clusters_rules: begin (generated, do not edit) -->"
MD_END = "<!-- benchmarks.n_clusters_rules: end -->"
#: HDBSCAN's smallest cluster, as a fraction of the rows.
HDBSCAN_FRACTION = 0.05
#: Tibshirani and Walther's threshold on the prediction strength.
STRENGTH_THRESHOLD = 0.8
RULES = (
    "skdec",
    "skdec_components_infinite",
    "skdec_sample",
    "skdec_map",
    "skdec_by_map_equation",
    "skdec_by_score",
    "map_equation",
    "skdec_split",
    "graph_Z",
    "graph_map",
    "eigengap",
    "hdbscan_map",
    "strength_map",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "gap",
    "dip_means",
    "dip_means_Z",
    "dip_merge",
    "dip_merge_Z",
    "dip_merge_map",
    "bic_map",
    "bic_Z",
    "generalisability",
)
#: Data sets added after skdec's rule was chosen; their hits are counted apart
#: (the probes of :data:`benchmarks.accuracy.PROBES` in no count).
ADDED_AFTER = (*UNSEEN, *SHAPES, *PACKAGED_TABLES)
#: Share of the rows the generalisability rule holds out.
VALIDATION_FRACTION = 0.1
#: Uniform reference data sets of the gap statistic (B).
GAP_REFERENCES = 10
#: k-means restarts per partition of the gap statistic, data and references.
GAP_N_INIT = 4
#: Gaussian draws per cluster of the split rule's null, and how many of
#: their standard deviations above their mean a cluster's best score must be
#: to split it.
SPLIT_NULLS = 5
SPLIT_SIGMAS = 2
#: Levels of splitting below the first choice in the split rule.
SPLIT_DEPTH = 3
#: The split rule leaves smaller clusters whole: their graph would join each
#: row to nearly every other.
SPLIT_MIN_ROWS = 2 * N_NEIGHBORS + 2
#: Dip-means, as its authors' package sets it by default (Kalogeratos and
#: Likas, 2012; Chamalis and Kalogeratos): uniform samples whose dips a
#: viewer's dip must reach (p-value 0), the share of a cluster's rows that
#: must see it as multimodal for it to split, and the most rows a cluster
#: left whole may have.
DIP_BOOTSTRAPS = 1000
DIP_VOTES = 0.1
DIP_SMALLEST = 6
#: The merge rule's level: a pair of clusters whose projection's dip test has
#: a higher p-value counts as one group; and the restarts of its k-means.
DIP_MERGE_ALPHA = 0.05
DIP_MERGE_N_INIT = 10
#: Restarts of each Gaussian mixture of the BIC rules.
BIC_N_INIT = 3


def prediction_strength(M, k, seed):
    """Tibshirani and Walther's prediction strength of k-means with ``k``
    clusters on the rows of ``M``, averaged over both halves of one random
    split: for each cluster k-means finds in the test half, the share of its
    pairs of rows that the training half's centres also put together; the
    strength is the smallest share."""
    order = np.random.default_rng(seed).permutation(len(M))
    halves = M[order[: len(M) // 2]], M[order[len(M) // 2 :]]
    strengths = []
    for train, test in (halves, halves[::-1]):
        by_train = KMeans(k, n_init=4, random_state=seed).fit(train).predict(test)
        own = KMeans(k, n_init=4, random_state=seed).fit_predict(test)
        shares = []
        for cluster in range(k):
            counts = np.bincount(by_train[own == cluster])
            n = counts.sum()
            if n >= 2:
                shares.append((counts * (counts - 1)).sum() / (n * (n - 1)))
        strengths.append(min(shares))
    return float(np.mean(strengths))


def bic_choice(M, seed, candidates):
    """``(k, {k: BIC})``: the number of components of the Gaussian mixture
    (full covariances, :data:`BIC_N_INIT` restarts) of lowest Bayesian
    information criterion on the rows of ``M``, the smaller on ties. A ``k``
    whose mixture cannot be fitted (a component collapsed onto too few
    distinct rows to have a covariance) is no candidate: its BIC is
    infinite, as mclust leaves such a model out."""
    M = np.asarray(M, dtype=np.float64)
    bic = {}
    for k in candidates:
        mixture = GaussianMixture(
            k, covariance_type="full", n_init=BIC_N_INIT, random_state=seed
        )
        try:
            bic[k] = float(mixture.fit(M).bic(M))
        except ValueError as error:
            if "ill-defined empirical covariance" not in str(error):
                raise
            bic[k] = np.inf
    return min(candidates, key=lambda k: (bic[k], k)), bic


def _dec(n_clusters, X, seed, overrides):
    """``DECClusterer`` with the defaults but ``overrides``, fitted on ``X``."""
    # The defaults' schedule uses neither a step count nor max_iter.
    params = dec_settings("defaults", len(X), None, None, overrides)
    with quiet():
        return DECClusterer(n_clusters, **params | {"random_state": seed}).fit(X)


def pretrained_embedding(X, seed, cache_dir, params=None):
    """The rows of ``X`` in the embedding of the default pretraining (with
    ``DECClusterer`` parameters ``params`` changed, if given)."""
    overrides = {"max_iter": 0, "init": "kmeans", "memory": cache_dir}
    return _dec(2, X, seed, overrides | (params or {})).transform(X)


def holdout(n_samples, seed):
    """``(train, validation)``: positions of the rows, disjoint, the
    validation rows :data:`VALIDATION_FRACTION` of them (at least one)."""
    order = np.random.default_rng([seed, 5]).permutation(n_samples)
    n_validation = max(1, int(round(VALIDATION_FRACTION * n_samples)))
    return order[n_validation:], order[:n_validation]


def generalisability(X, seed, candidates, cache_dir, params=None):
    """The DEC paper's rule: ``(k, {k: G})``, ``k`` before the largest drop
    of ``G = L_train / L_validation`` (see the module's docstring)."""
    train, validation = (X[rows] for rows in holdout(len(X), seed))
    overrides = {"init": "kmeans", "memory": cache_dir} | (params or {})
    ratios = {}
    for k in candidates:
        model = _dec(k, train, seed, overrides)
        # score is -KL(P || Q) per row, each set's P computed from its own Q.
        ratios[k] = -model.score(train) / max(
            -model.score(validation), np.finfo(float).tiny
        )
    return before_largest_drop(ratios), ratios


def gap_statistic(X, seed, candidates, n_references=GAP_REFERENCES):
    """Tibshirani, Walther and Hastie's choice: ``(k, {k: (gap, s)})``.

    ``gap(k) = mean_b log W*_kb - log W_k``, ``W`` the within-cluster sum of
    squares of k-means (:data:`GAP_N_INIT` restarts) on ``X`` and on the
    ``b``-th reference, uniform in the box spanned by ``X``'s principal
    axes; ``s(k)`` is the references' standard deviation of ``log W*`` times
    ``sqrt(1 + 1/B)``. The choice is the smallest candidate ``k`` with
    ``gap(k) >= gap(k + 1) - s(k + 1)`` (the largest when none is).
    """
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    rotated = centred @ axes.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    rng = np.random.default_rng([seed, 2001])
    references = [
        rng.uniform(low, high, rotated.shape) @ axes for _ in range(n_references)
    ]

    def log_w(data, k):
        kmeans = KMeans(k, n_init=GAP_N_INIT, random_state=seed).fit(data)
        return np.log(max(kmeans.inertia_, np.finfo(float).tiny))

    gaps = {}
    for k in candidates:
        expected = np.array([log_w(reference, k) for reference in references])
        spread = expected.std() * np.sqrt(1 + 1 / n_references)
        gaps[k] = (float(expected.mean() - log_w(X, k)), float(spread))
    ks = sorted(candidates)
    chosen = next(
        (
            k
            for k, after in itertools.pairwise(ks)
            if gaps[k][0] >= gaps[after][0] - gaps[after][1]
        ),
        ks[-1],
    )
    return chosen, gaps


def before_largest_drop(ratios):
    """The ``k`` of ``{k: G}`` followed by the largest fall of ``G`` to the
    next candidate (the smaller on ties; the smallest with one candidate)."""
    ks = sorted(ratios)
    drops = {k: ratios[k] - ratios[after] for k, after in itertools.pairwise(ks)}
    return max(drops, key=lambda k: (drops[k], -k), default=ks[0])


def gaussian_like(X, seed, draw):
    """As many rows as ``X`` from the Gaussian of its mean and covariance."""
    mean = X.mean(axis=0)
    _, spread, axes = np.linalg.svd(X - mean, full_matrices=False)
    spread = spread / np.sqrt(max(len(X) - 1, 1))
    rng = np.random.default_rng([seed, draw, len(X)])
    return mean + (rng.normal(size=(len(X), spread.size)) * spread) @ axes


def split_count(X, Z, seed, candidates, depth=0, nodes=None, first=None):
    """The split rule's number of clusters of ``X`` (embedding ``Z``), and the
    clusters it judged, as ``[depth, rows, best score, threshold]`` lists
    (the threshold the best score had to pass; None at depth 0). ``first``
    is ``choose_n_clusters(X, Z, candidates, seed=seed)`` (``candidates``
    at most ``len(X) - 2``) when the caller has it already.

    ``choose_n_clusters`` chooses ``k`` clusters; each cluster of at least
    :data:`SPLIT_MIN_ROWS` rows is chosen for again on its own rows and split
    as chosen there when its best score is more than :data:`SPLIT_SIGMAS`
    standard deviations (times ``sqrt(1 + 1/B)``, as the gap statistic's)
    above the mean best score of :data:`SPLIT_NULLS` (``B``) Gaussian data
    sets of its own mean, covariance and number of rows (the null of one
    cluster without structure), down to
    :data:`SPLIT_DEPTH` levels below the first choice. The count is the number
    of clusters left, at most the largest candidate.
    """
    nodes = [] if nodes is None else nodes
    usable = [k for k in candidates if k <= len(X) - 2]
    choice = first or choose_n_clusters(X, Z, usable, seed=seed)
    best = max(choice.scores.values())
    null = None
    if depth > 0:
        draws = [
            choose_n_clusters(gaussian_like(X, seed, draw), None, usable, seed=seed)
            for draw in range(SPLIT_NULLS)
        ]
        best_of = [max(draw.scores.values()) for draw in draws]
        # Two standard deviations above the draws' mean, with the gap
        # statistic's allowance for the draws' own error.
        spread = np.std(best_of) * np.sqrt(1 + 1 / SPLIT_NULLS)
        null = float(np.mean(best_of) + SPLIT_SIGMAS * spread)
    nodes.append([depth, len(X), best, null])
    if null is not None and best <= null:
        return 1, nodes
    if depth == SPLIT_DEPTH:
        return choice.n_clusters, nodes
    labels = choice.labels[choice.n_clusters]
    count = 0
    for cluster in np.unique(labels):
        rows = labels == cluster
        if rows.sum() < max(SPLIT_MIN_ROWS, min(candidates) + 2):
            count += 1
        else:
            below, _ = split_count(X[rows], Z[rows], seed, candidates, depth + 1, nodes)
            count += below
    return min(count, max(candidates)), nodes


@functools.cache
def uniform_dip_limit(n_values, seed):
    """The largest dip of :data:`DIP_BOOTSTRAPS` uniform samples of
    ``n_values`` values: a dip that reaches it has bootstrap p-value 0."""
    import diptest

    rng = np.random.default_rng([seed, 2012, n_values])
    return max(
        diptest.dipstat(rng.uniform(size=n_values)) for _ in range(DIP_BOOTSTRAPS)
    )


def dip_judgement(M, seed):
    """``(split, score)`` of dip-means for the cluster of rows ``M``.

    Each row views the cluster through its distances to the other rows; it
    votes to split when the dip of those distances reaches
    :func:`uniform_dip_limit`. The cluster should split when at least
    :data:`DIP_VOTES` of its rows vote so; its score is the mean dip of the
    voters (0 without voters).
    """
    import diptest

    distances = pairwise_distances(M)
    dips = np.array(
        [diptest.dipstat(np.delete(row, i)) for i, row in enumerate(distances)]
    )
    voters = dips >= uniform_dip_limit(len(M) - 1, seed)
    score = float(dips[voters].mean()) if voters.any() else 0.0
    return bool(voters.mean() >= DIP_VOTES), score


def dip_means(M, seed, max_clusters):
    """Kalogeratos and Likas' dip-means: the number of clusters of ``M``.

    From one cluster, the cluster of highest :func:`dip_judgement` score
    among those of more than :data:`DIP_SMALLEST` rows that should split is
    split in two by k-means, until none should or ``max_clusters`` are
    reached (the authors' package defaults: no k-means over all clusters
    after a split).
    """
    M = np.asarray(M, dtype=np.float64)
    labels = np.zeros(len(M), dtype=int)
    judged = {}
    for n_clusters in range(1, max_clusters):
        for cluster in range(n_clusters):
            rows = labels == cluster
            if cluster not in judged and rows.sum() > DIP_SMALLEST:
                judged[cluster] = dip_judgement(M[rows], seed)
        splitting = [c for c, (split, _) in judged.items() if split]
        if not splitting:
            return n_clusters
        cluster = max(splitting, key=lambda c: (judged[c][1], -c))
        rows = np.flatnonzero(labels == cluster)
        halves = KMeans(2, n_init=GAP_N_INIT, random_state=seed).fit_predict(M[rows])
        labels[rows[halves == 1]] = n_clusters
        del judged[cluster]
    return max_clusters


def projected_dip_p(M, labels, a, b):
    """The p-value of Hartigan's dip test (diptest's table) for the rows of
    clusters ``a`` and ``b`` of ``M`` projected onto the line through their
    means; 1 where the means coincide or the rows are fewer than 4."""
    import diptest

    first, second = M[labels == a], M[labels == b]
    direction = first.mean(axis=0) - second.mean(axis=0)
    norm = np.linalg.norm(direction)
    if norm == 0 or len(first) + len(second) < 4:
        return 1.0
    projected = np.concatenate([first @ direction, second @ direction]) / norm
    return float(diptest.diptest(projected)[1])


def dip_merge(M, seed, max_clusters):
    """The number of clusters left when k-means' ``max_clusters`` clusters of
    ``M`` are merged, the pair of highest :func:`projected_dip_p` first,
    while that p-value is above :data:`DIP_MERGE_ALPHA`."""
    M = np.asarray(M, dtype=np.float64)
    labels = KMeans(max_clusters, n_init=DIP_MERGE_N_INIT, random_state=seed)
    labels = labels.fit_predict(M)
    clusters = set(np.unique(labels).tolist())
    p = {
        (a, b): projected_dip_p(M, labels, a, b)
        for a in clusters
        for b in clusters
        if a < b
    }
    while p:
        (a, b), highest = max(
            p.items(), key=lambda item: (item[1], -item[0][0], -item[0][1])
        )
        if highest <= DIP_MERGE_ALPHA:
            break
        labels[labels == b] = a
        clusters.discard(b)
        p = {
            pair: value for pair, value in p.items() if b not in pair and a not in pair
        }
        for c in clusters - {a}:
            p[min(a, c), max(a, c)] = projected_dip_p(M, labels, a, c)
    return len(clusters)


def choices(X, seed, candidates, cache_dir, params=None, rules=RULES):
    """``({rule: k}, details)`` for the ``rules`` of :data:`RULES`; details
    holds, for the rules that ran, skdec's score, the gap statistic, the
    BICs and the generalisability per ``k``, and the split rule's judged
    clusters. The pretraining and the UMAP map are computed once, and only for
    rules that use them."""
    sample = _sample(X.shape[0], MAX_ROWS, seed)
    X64 = X.astype(np.float64)  # as choose_n_clusters computes
    Xs = X64 if sample is None else X64[sample]
    details = {}

    @functools.cache
    def embedding():
        return pretrained_embedding(X, seed, cache_dir, params)

    @functools.cache
    def partitions():
        return kmeans_partitions(X64, seed, candidates)

    def highest(index):
        # The k of highest index on the k-means partitions, the smaller on ties.
        return max(candidates, key=lambda k: (index(X64, partitions()[k]), -k))

    def gap():
        k, gaps = gap_statistic(Xs, seed, candidates)
        details["gap"] = {str(c): list(value) for c, value in gaps.items()}
        return k

    def sampled_embedding():
        return embedding() if sample is None else embedding()[sample]

    @functools.cache
    def mapped():
        return umap_view(sampled_embedding(), max(candidates), seed)[0]

    def skdec_on(views=(), select="modularity"):
        return choose_n_clusters(
            Xs,
            sampled_embedding(),
            candidates,
            seed=seed,
            proposals=views,
            select=select,
        )

    # skdec_sample's choice is also the split rule's first level.
    control = functools.cache(skdec_on)

    @functools.cache
    def input_graph():
        # The neighbour graph of the sampled rows, as choose_n_clusters
        # builds it; the map-equation and eigengap rules share it.
        return neighbor_graph(Xs)

    def map_equation():
        proposals = skdec_on(select="map_equation").labels
        graph = input_graph()
        savings = {k: codelength_saving(graph, proposals[k]) for k in candidates}
        details["map_equation"] = {str(k): value for k, value in savings.items()}
        return max(candidates, key=lambda k: (savings[k], -k))

    def skdec_split():
        k, details["skdec_split"] = split_count(
            Xs, sampled_embedding(), seed, candidates, first=control()
        )
        return k

    def graph_map():
        return choose_n_clusters(
            mapped(), sampled_embedding(), candidates, seed=seed
        ).n_clusters

    def eigengap():
        values, _ = laplacian_spectrum(input_graph(), max(candidates) + 1, seed)
        # values[k] is lambda_{k+1}.
        return max(candidates, key=lambda k: values[k] - values[k - 1])

    def hdbscan_map():
        smallest = max(5, int(HDBSCAN_FRACTION * len(Xs)))
        found = HDBSCAN(min_cluster_size=smallest, copy=True).fit_predict(mapped())
        return np.clip(found.max() + 1, min(candidates), max(candidates))

    def strength_map():
        strong = [
            k
            for k in candidates
            if prediction_strength(mapped(), k, seed) >= STRENGTH_THRESHOLD
        ]
        return max(strong, default=min(candidates))

    def dip_count(M):
        # One cluster (no split) is below the candidates.
        return max(dip_means(M, seed, max(candidates)), min(candidates))

    def merged_count(M):
        # One cluster (all merged) is below the candidates.
        return max(dip_merge(M, seed, max(candidates)), min(candidates))

    def bic(name, M):
        k, scores = bic_choice(M, seed, candidates)
        details[name] = {str(c): value for c, value in scores.items()}
        return k

    def dec_generalisability():
        rows = X if sample is None else X[sample]
        k, details["generalisability"] = generalisability(
            rows, seed, candidates, cache_dir, params
        )
        return k

    def skdec(name="skdec", link_weight=_n_clusters.LINK_WEIGHT):
        # What n_clusters="auto" chooses, with the seeds the estimator draws
        # from random_state; the pretraining comes from the cache.
        overrides = {"max_iter": 0, "init": "kmeans", "memory": cache_dir}
        overrides["n_clusters_range"] = (min(candidates), max(candidates))
        with unittest.mock.patch.object(_n_clusters, "LINK_WEIGHT", link_weight):
            model = _dec("auto", X, seed, overrides | (params or {}))
        details[name] = {str(k): v for k, v in model.n_clusters_scores_.items()}
        return model.n_clusters_

    run = {
        "skdec": skdec,
        "skdec_components_infinite": lambda: skdec("skdec_components_infinite", 0.0),
        "skdec_sample": lambda: control().n_clusters,
        "skdec_map": lambda: skdec_on([mapped()]).n_clusters,
        "skdec_by_map_equation": lambda: skdec_on(select="map_equation").n_clusters,
        "skdec_by_score": lambda: skdec_on(select="score").n_clusters,
        "map_equation": map_equation,
        "skdec_split": skdec_split,
        "graph_Z": lambda: (
            choose_n_clusters(embedding(), X64, candidates, seed=seed).n_clusters
        ),
        "graph_map": graph_map,
        "eigengap": eigengap,
        "hdbscan_map": hdbscan_map,
        "strength_map": strength_map,
        "silhouette": lambda: silhouette_choice(X64, seed, candidates, partitions())[0],
        "calinski_harabasz": lambda: highest(calinski_harabasz_score),
        "davies_bouldin": lambda: highest(
            lambda X, labels: -davies_bouldin_score(X, labels)
        ),
        "gap": gap,
        "dip_means": lambda: dip_count(Xs),
        "dip_means_Z": lambda: dip_count(sampled_embedding()),
        "dip_merge": lambda: merged_count(Xs),
        "dip_merge_Z": lambda: merged_count(sampled_embedding()),
        "dip_merge_map": lambda: merged_count(mapped()),
        "bic_map": lambda: bic("bic_map", mapped()),
        "bic_Z": lambda: bic("bic_Z", sampled_embedding()),
        "generalisability": dec_generalisability,
    }
    return {rule: int(run[rule]()) for rule in RULES if rule in rules}, details


def markdown(records, invocations=()):
    """The table: per data set each rule's mode (range), and the hit counts,
    for the rules the records hold; then each run's date, machine, commit and
    command."""
    rules = [r for r in RULES if any(r in record["choices"] for record in records)]
    by_data = collections.defaultdict(list)
    for record in records:
        by_data[record["dataset"]].append(record)
    scored = any(_class_score(record) is not None for record in records)
    lines = [
        "| data | classes | seeds | "
        + " | ".join([*rules, *[CLASS_SCORE_HEADER] * scored])
        + " |",
        "|---|---|---|" + "---|" * (len(rules) + scored),
    ]
    # Hits per rule, counted apart on the data sets added after skdec's rule.
    hits = {later: collections.Counter() for later in (False, True)}
    ran = {later: collections.Counter() for later in (False, True)}
    # And per seed, which no tie between modes decides.
    seed_hits = {later: collections.Counter() for later in (False, True)}
    seeds_ran = {later: collections.Counter() for later in (False, True)}
    for name, group in by_data.items():
        later = name in ADDED_AFTER
        if name in PROBES:
            later = None
        n_classes = group[0]["n_classes"]
        cells = []
        for rule in rules:
            picks = [r["choices"][rule] for r in group if rule in r["choices"]]
            if not picks:
                cells.append("–")
                continue
            mode = most_common(picks)
            hit = abs(mode - n_classes) <= 1
            if later is not None:
                hits[later][rule] += hit
                ran[later][rule] += 1
                seed_hits[later][rule] += sum(abs(k - n_classes) <= 1 for k in picks)
                seeds_ran[later][rule] += len(picks)
            cells.append(f"{mode} ({min(picks)}-{max(picks)}){' ✓' if hit else ''}")
        if scored:
            cells.append(_class_score_cell(group))
        seeds = ",".join(str(r["seed"]) for r in group)
        lines.append(f"| {name} | {n_classes} | {seeds} | " + " | ".join(cells) + " |")
    for later, label in (
        (False, "within ±1 of the class count"),
        (True, "within ±1, on the data sets added after skdec's rule"),
    ):
        if not ran[later]:
            continue
        for count, total, what in (
            (hits, ran, label),
            (seed_hits, seeds_ran, "the same, counted per seed"),
        ):
            lines.append(
                f"| **{what}** | | | "
                + " | ".join(
                    f"{count[later][rule]}/{total[later][rule]}"
                    if total[later][rule]
                    else "–"
                    for rule in rules
                )
                + " |" * (1 + scored)
            )
    if invocations:
        lines.append("")
    lines += invocation_lines(invocations)
    return "\n".join(lines)


CLASS_SCORE_HEADER = "score of the classes (of skdec's k)"


def _class_score(record):
    """``(score of the class labelling, skdec's highest score)`` of a record;
    None unless it holds both."""
    details = record.get("details", {})
    if "class_score" not in details or "skdec" not in details:
        return None
    return details["class_score"], max(details["skdec"].values())


def _class_score_cell(group):
    """Means over the seeds: the classes' score, and skdec's in brackets."""
    pairs = [pair for pair in map(_class_score, group) if pair is not None]
    if not pairs:
        return "–"
    classes, chosen = np.mean(pairs, axis=0)
    return f"{classes:.2f} ({chosen:.2f})"


def _settings(args):
    """What a record's choices depend on beside the data set and seed."""
    return {
        "max_rows": args.max_rows,
        "dec_params": json.loads(args.dec_params),
        "n_clusters_range": list(args.n_clusters_range),
    }


def _mixed_settings(records, args, settings):
    """A message naming the first record of ``args``' data sets and seeds
    made with other settings than ``settings``; None if there is none.
    Records that predate the settings field cannot be checked."""
    for record in records:
        made = record.get("settings")
        rerun = record["dataset"] in args.datasets and record["seed"] in args.seeds
        if rerun and made is not None and made != settings:
            return (
                f"--merge would mix settings: {record['dataset']} seed "
                f"{record['seed']} was recorded with {made}, this run has "
                f"{settings}; write to another --out-json"
            )
    return None


def _merge(records, new):
    """``records`` with the choices (and details) of ``new`` added to those
    of the same data set and seed; records of new pairs are appended.
    Raises ValueError when a pair was recorded with other settings (records
    without settings are not checked)."""
    by_key = {(r["dataset"], r["seed"]): r for r in records}
    for record in new:
        key = (record["dataset"], record["seed"])
        made, settings = by_key.get(key, {}).get("settings"), record.get("settings")
        if None not in (made, settings) and made != settings:
            raise ValueError(
                f"{key[0]} seed {key[1]} was recorded with {made}, the records "
                f"to merge have {settings}"
            )
        if key in by_key:
            by_key[key]["choices"].update(record["choices"])
            by_key[key].setdefault("details", {}).update(record.get("details", {}))
        else:
            records.append(record)
            by_key[key] = record
    return records


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argument_parser(__doc__, seeds=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=10000)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument(
        "--dec-params", default="{}", help="JSON object of DECClusterer parameters"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out-json", default=None)
    parser.add_argument("--out-md", default=None)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: write the table of the records in --out-json",
    )
    parser.add_argument(
        "--rules", nargs="+", choices=RULES, default=list(RULES), help="rules to run"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="add the choices to the records already in --out-json",
    )
    parser.add_argument(
        "--merge-from",
        nargs="+",
        metavar="JSON",
        default=None,
        help="run nothing: add the records and runs of these files (runs "
        "side by side, each with its own --out-json) to --out-json",
    )
    args = parser.parse_args(argv)
    require_records(parser, args, ("render_only", "merge", "merge_from"))
    if args.merge_from:
        records, invocations = read_records(args.out_json)
        for path in args.merge_from:
            more, runs = read_records(path)
            try:
                records = _merge(records, more)
            except ValueError as error:
                parser.error(f"--merge-from {path} would mix settings: {error}")
            invocations = [*invocations, *runs]
        save_records(args.out_json, records, invocations)
    if args.render_only or args.merge_from:
        render(*read_records(args.out_json), args.out_md)
        return
    # Read the records to merge into now, not after hours of fitting.
    saved = read_records(args.out_json) if args.merge else None
    settings = _settings(args)
    if saved is not None:
        mixed = _mixed_settings(saved[0], args, settings)
        if mixed is not None:
            parser.error(mixed)
    if args.threads is not None:
        limit_threads(args.threads)
    meta = invocation_metadata(argv, "benchmarks.n_clusters_rules")
    dec_params = settings["dec_params"]
    smallest, largest = args.n_clusters_range
    candidates = list(range(smallest, largest + 1))
    records = []
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = args.cache_dir or scratch
        for name in args.datasets:
            X, y = load_dataset(name, args.data_dir)
            X, y, _ = subsample(X, y, args.max_rows)
            usable = [k for k in candidates if k <= min(len(X), MAX_ROWS) - 2]
            for seed in args.seeds:
                picks, details = choices(
                    X, seed, usable, cache_dir, dec_params, args.rules
                )
                # How the score that chooses k rates the class labelling.
                details["class_score"] = separation_score(X, y, seed=seed)
                records.append(
                    {
                        "dataset": name,
                        "seed": seed,
                        "n_classes": int(np.unique(y).size),
                        "choices": picks,
                        "details": details,
                        "settings": settings,
                    }
                )
                print(name, seed, picks, flush=True)
    invocations = [meta]
    if args.merge:
        records = _merge(saved[0], records)
        invocations = [*saved[1], meta]
    save_records(args.out_json, records, invocations)
    render(records, invocations, args.out_md)


def render(records, invocations, out_md):
    """Print the table, and write it between the markers of ``out_md``."""
    show_table(markdown(records, invocations), out_md, MD_BEGIN, MD_END)


if __name__ == "__main__":
    main()
