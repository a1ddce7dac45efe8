namespace Distill.Caching;

/// <summary>The teacher-output cache cannot be used as configured (augmentation on, unsupported term, corrupt files); the message says what to change.</summary>
public sealed class TeacherCacheException(string message) : Exception(message);
