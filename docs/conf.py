"""Sphinx configuration of the skdec documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html``; the gallery
runs ``examples/plot_*.py`` during the build.
"""

import os
import sys
from pathlib import Path

# Document (and run the gallery with) this checkout's skdec, whatever is
# installed.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import skdec  # noqa: E402

project = "skdec"
author = "skdec developers"
copyright = "skdec developers"
release = skdec.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "alabaster"
html_static_path = []

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Links to scikit-learn, NumPy and Keras need their inventories from the
# network. The machines that build these docs (CI included) are offline, and
# Sphinx reports an unreachable inventory as a warning, which -W turns into an
# error; so intersphinx is on only when asked for with
# SKDEC_DOCS_INTERSPHINX=1. Offline, such references render as plain text.
intersphinx_mapping = {}
if os.environ.get("SKDEC_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "keras": ("https://keras.io/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
    }

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py run during the build; mnist_reproduce.py (minutes to an hour)
    # is shown without being run.
    "filename_pattern": r"/plot_",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skdec",),
    "reference_url": {"skdec": None},
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
}
