"""`jiuye seed ...`: load demo and scenario data."""

from flask.cli import AppGroup

seed = AppGroup("seed", help="Load demo, scenario or scale data.")
