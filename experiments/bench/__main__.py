"""``python -m experiments.bench`` = ``gridledger-bench``."""

from experiments.bench import main

raise SystemExit(main())
