"""The pieces only `s3auth dev` uses: its public keys, sample files, banner and signing page."""
