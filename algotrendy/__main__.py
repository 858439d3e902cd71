from algotrendy.cli import main

raise SystemExit(main())
