import sys

from dev.embedded.cli import main

sys.exit(main())
