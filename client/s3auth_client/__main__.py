from s3auth_client.commands import main

raise SystemExit(main())
