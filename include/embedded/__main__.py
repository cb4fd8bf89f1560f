import sys

from include.embedded.cli import main

sys.exit(main())
