using Tollgate.Cli;

return await TollgateCli.RunAsync(args).ConfigureAwait(false);
