"""employment-eval: the graduate-employment evaluation pipeline of SJTU School of Medicine."""

__version__ = "0.2.0"
