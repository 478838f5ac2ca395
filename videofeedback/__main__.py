import sys

from videofeedback.cli import main

sys.exit(main())
