from employment_eval.cli import main

raise SystemExit(main())
