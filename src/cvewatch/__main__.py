from cvewatch.cli import main

main()
