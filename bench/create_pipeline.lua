-- CreatePipeline of the 3-stage fixture (S3 source, CodeBuild, S3 deploy) under a new name per
-- request: bench-c<thread>-<n>. role=ARN sets roleArn; rotate=N spreads creates over accounts.
OP = "CreatePipeline"
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function make_body(thread_id, n)
   local role = ARGS.role or "arn:aws:iam::123456789012:role/bench-role"
   return '{"pipeline":{"name":"bench-c' .. thread_id .. '-' .. n .. '","roleArn":"' .. role .. '",' ..
      '"artifactStore":{"type":"S3","location":"codepipeline-us-east-1-artifacts"},"stages":[' ..
      '{"name":"Source","actions":[{"name":"Source","actionTypeId":{"category":"Source","owner":"AWS","provider":"S3","version":"1"},' ..
      '"outputArtifacts":[{"name":"SourceOutput"}],"configuration":{"S3Bucket":"my-source-bucket","S3ObjectKey":"app.zip","PollForSourceChanges":"false"}}]},' ..
      '{"name":"Build","actions":[{"name":"Build","actionTypeId":{"category":"Build","owner":"AWS","provider":"CodeBuild","version":"1"},' ..
      '"inputArtifacts":[{"name":"SourceOutput"}],"outputArtifacts":[{"name":"BuildOutput"}],"configuration":{"ProjectName":"my-build-project"}}]},' ..
      '{"name":"Deploy","actions":[{"name":"Deploy","actionTypeId":{"category":"Deploy","owner":"AWS","provider":"S3","version":"1"},' ..
      '"inputArtifacts":[{"name":"BuildOutput"}],"configuration":{"BucketName":"my-website-bucket","Extract":"true"}}]}]}}'
end
