"""AWS adapters through boto3: S3 blobs (s3.py); S3-compatible servers work too."""
