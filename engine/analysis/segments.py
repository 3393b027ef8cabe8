"""Segments (personas): KMeans on robust-scaled features, k picked by silhouette, named
from the features where each centroid lies furthest above and below the population."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances

from engine.analysis import wording

FIT_SAMPLE = 200_000  # KMeans on more rows than this changes nothing but the wait
SILHOUETTE_SAMPLE = 3_000  # silhouette is O(n^2): choose k on a sample


class SegmentModel:
    """Cluster entities into personas. ``labels`` name the clustered features for messages."""

    def __init__(self, *, k: int | None = None, k_range: tuple[int, int] = (2, 8), seed: int = 0):
        self.k = k
        self.k_range = k_range
        self.seed = seed

    def fit(self, Z: np.ndarray, labels: list[str], *, directed: bool = False, plural: str = "companies") -> SegmentModel:
        """Z: (n, f) scaled, imputed features used for clustering; ``directed`` when every one
        of them is better when higher (the names may then say leaders / early-stage)."""
        rng = np.random.default_rng(self.seed)
        fit_rows = Z if len(Z) <= FIT_SAMPLE else Z[rng.choice(len(Z), FIT_SAMPLE, replace=False)]
        self.silhouettes_ = {}
        k = self.k or self._choose_k(fit_rows, rng)
        self.kmeans_ = KMeans(n_clusters=k, n_init=10, random_state=self.seed).fit(fit_rows)
        self.centroids_ = self.kmeans_.cluster_centers_
        assigned, _ = self.predict(Z)
        self.sizes_ = np.bincount(assigned, minlength=k)
        self.labels_ = list(labels)
        self.names_, self.descriptions_ = _describe(self.centroids_, self.sizes_, self.labels_, directed, plural)
        return self

    def _choose_k(self, Z: np.ndarray, rng: np.random.Generator) -> int:
        lo, hi = self.k_range
        hi = min(hi, len(Z) - 1)
        if hi < lo:
            return max(1, min(lo, len(Z)))
        sample = Z if len(Z) <= SILHOUETTE_SAMPLE else Z[rng.choice(len(Z), SILHOUETTE_SAMPLE, replace=False)]
        distances = pairwise_distances(sample)  # once for every k tried
        for k in range(lo, hi + 1):
            km = KMeans(n_clusters=k, n_init=4, random_state=self.seed).fit(sample)
            if len(set(km.labels_)) < 2:
                continue
            self.silhouettes_[k] = silhouette(distances, km.labels_)
        return max(self.silhouettes_, key=self.silhouettes_.get) if self.silhouettes_ else lo

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (segment index (n,), Euclidean distance to that centroid in scaled units (n,)).

        Row by row, without a matrix product: the last bits of a BLAS product depend on how
        many rows it multiplies (on some CPUs), and a row's segment distance must not depend on
        the rows scored with it (a table scored in parts equals the whole; one profile equals
        its row in a table)."""
        d2 = np.zeros((len(Z), len(self.centroids_)))
        for j in range(Z.shape[1]):  # feature by feature: element-wise steps only (numpy's
            d2 += (Z[:, j, None] - self.centroids_[None, :, j]) ** 2  # reductions vary with shape too)
        idx = d2.argmin(axis=1)
        return idx, np.sqrt(d2[np.arange(len(Z)), idx])


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette of ``labels`` (0..k-1) from the (n, n) ``distances``, as scikit-learn's
    ``silhouette_score`` defines it (a point alone in its cluster scores 0), with each point's
    distance sums to every cluster from one matrix product: scikit-learn walks the whole matrix
    per cluster count, 9x slower here."""
    n, k = len(labels), int(labels.max()) + 1
    members = np.zeros((n, k))
    members[np.arange(n), labels] = 1.0
    sums = distances @ members  # (n, k): each point's total distance to each cluster
    sizes = members.sum(axis=0)
    own = sizes[labels]
    intra = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / sizes
        means[:, sizes == 0] = np.inf  # a cluster count with no point: not a neighbour
        means[np.arange(n), labels] = np.inf
        inter = means.min(axis=1)
        scores = (inter - intra) / np.maximum(intra, inter)
    return float(np.nan_to_num(np.where(own > 1, scores, 0.0)).mean())


NOTABLE_SD = 0.25  # centroid offsets smaller than this are not worth naming


def _describe(centroids: np.ndarray, sizes: np.ndarray, labels: list[str], directed: bool, plural: str) -> tuple[list[str], list[str]]:
    """A readable name and description per centroid (values in robust-sd units vs population):
    only features clearly above the population are listed as above, and below as below."""
    total = sizes.sum()
    names, descriptions = [], []
    for c, size in zip(centroids, sizes, strict=True):
        order = np.argsort(c)
        above = [(labels[i], c[i]) for i in order[::-1][:2] if c[i] >= NOTABLE_SD]
        below = [(labels[i], c[i]) for i in order[:2] if c[i] <= -NOTABLE_SD]
        names.append(wording.segment_name(c.mean(), c.max() - c.min(), labels[order[-1]], labels[order[0]], directed))
        descriptions.append(wording.segment_description(size, size / total, above, below, plural))
    return _unique(names), descriptions


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out
