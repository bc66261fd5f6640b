from cxbot.cli import main

main()
