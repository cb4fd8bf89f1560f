import sys

from include.loaders.cli import main

sys.exit(main())
