//! The handler task: every handler runs in a task of its own, so that
//! - a bug that panics answers `500 InternalFailure` to its caller instead of taking the
//!   connection (or the server) down, and
//! - a handler once begun runs to its end even if the client hangs up or shutdown stops waiting
//!   for it: a write of several steps (CreatePipeline, then its first execution) is never cut
//!   between them, as it would be if the handler were dropped with the connection.

use std::future::Future;

use crate::error::AwsError;

pub async fn guarded<T: Send + 'static>(
    operation: &str,
    handler: impl Future<Output = Result<T, AwsError>> + Send + 'static,
) -> Result<T, AwsError> {
    match tokio::spawn(handler).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(operation = %operation, error = %e, "handler panicked");
            Err(AwsError::internal(
                "The server encountered an internal error",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_failure() {
        let answer: Result<(), _> = guarded("Boom", async { panic!("a bug") }).await;
        let Err(error) = answer else {
            panic!("a panic is an error reply")
        };
        assert_eq!(
            (error.code, error.status.as_u16()),
            ("InternalFailure", 500)
        );
        assert_eq!(guarded("Fine", async { Ok(7) }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_handler_runs_to_its_end_when_its_caller_goes_away() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let caller = tokio::spawn(guarded("Slow", async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = tx.send("finished");
            Ok(())
        }));
        tokio::task::yield_now().await;
        caller.abort();
        let deadline = std::time::Duration::from_secs(5);
        let outcome = tokio::time::timeout(deadline, rx).await;
        assert!(matches!(outcome, Ok(Ok("finished"))), "{outcome:?}");
    }
}
