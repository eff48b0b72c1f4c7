"""``python -m cnnlab.pretrained``: retrain the shipped checkpoint."""
import sys

from cnnlab.pretrained.train import main

sys.exit(main())
