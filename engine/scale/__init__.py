"""Scale-out on Dask: the same work as the in-process path, spread over a cluster.

What runs where:
- ``cluster``: the one place that opens a Dask client (``--scheduler local`` starts a local
  cluster for the duration of a command; an address joins a running one).
- ``parts``: which Parquet files a PATH names (a file, a folder of parts, a glob), and where
  each part's output goes.
- ``scoring``: batch scoring, one task per input part. Each worker loads the served version once
  (verified, as everywhere), checks and scores its part batch by batch with the in-process code
  and writes one output part, so memory per worker follows the batch size, not the table size.
- ``training``: a version from Parquet parts: checks, peer statistics and the drift reference
  from every row, the other models on a sample; ``outcome``: its outcome model on
  ``xgboost.dask``; ``sketch``: the mergeable binned quantile sketch behind the percentiles.

Workers need the package installed, the home folder (registry) at the same path, and the input
and output paths reachable (a shared file system); a signing key, when one is used, must be in
their environment too.
"""
