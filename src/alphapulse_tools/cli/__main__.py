import sys

from alphapulse_tools.cli import main

sys.exit(main())
