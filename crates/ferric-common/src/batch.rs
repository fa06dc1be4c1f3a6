//! SEND_BATCH_MESSAGE body codec (not written yet).
