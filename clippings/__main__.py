"""python -m clippings"""

from clippings.cli import main

main()
